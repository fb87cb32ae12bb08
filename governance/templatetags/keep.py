"""`{% keep "name" value … %}…{% endkeep %}`: a fragment kept per process for KEEP_SECONDS, by its
name, the language and the values named.

For the site menu every page draws: a dozen URL reversals and translations (~0.5 ms a page) whose
result depends only on the values named. Everything the fragment shows must come from those
values, or from what does not change while a process lives (URLs, translations); KEEP_SECONDS
bounds how long anything else could be stale. A `{% csrf_token %}` inside is drawn with a
placeholder and each request's own token put in on the way out; without a token (no request) the
fragment is drawn afresh and not kept.
"""

from __future__ import annotations

import time
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

KEEP_SECONDS = 60.0
KEEP_MAX = 2048
_PLACEHOLDER = "keepcsrftokenplaceholder"
_kept: dict[tuple, tuple[float, str]] = {}


class KeepNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name: Any, vary: list[Any]) -> None:
        self.nodelist, self.name, self.vary = nodelist, name, vary

    def render(self, context: template.Context) -> SafeString:
        token = context.get("csrf_token")
        if not token or str(token) == "NOTPROVIDED":
            return self.nodelist.render(context)
        key = (self.name.resolve(context), get_language(), *(str(value.resolve(context)) for value in self.vary))
        now = time.monotonic()
        kept = _kept.get(key)
        if kept is None or now - kept[0] > KEEP_SECONDS:
            with context.push(csrf_token=_PLACEHOLDER):
                html = str(self.nodelist.render(context))
            if len(_kept) >= KEEP_MAX:
                _kept.clear()
            _kept[key] = (now, html)
        else:
            html = kept[1]
        return mark_safe(html.replace(_PLACEHOLDER, str(token)))


@register.tag
def keep(parser: template.base.Parser, token: template.base.Token) -> KeepNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% keep %} takes a name and the values the fragment depends on.")
    nodelist = parser.parse(("endkeep",))
    parser.delete_first_token()
    return KeepNode(nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(bit) for bit in bits[2:]])


def keep_clear() -> None:
    _kept.clear()
