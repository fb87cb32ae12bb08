from datetime import timedelta

import time_machine
from django.utils import timezone

from appeals.models import EventType
from appeals.services.intake import text_similarity
from tests.appeals.conftest import POINT_A, POINT_OTHER_STREET


def test_a_similar_complaint_nearby_is_linked_to_the_first(submit):
    first = submit()
    second = submit((POINT_A[0] + 0.0003, POINT_A[1]), description="幸福路12号院门口的垃圾好几天没人清运了")
    third = submit(description="幸福路12号院门口垃圾还是没人清运")
    assert second.repeat_of_id == first.pk and third.repeat_of_id == first.pk
    first.refresh_from_db()
    assert first.repeat_count == 2
    assert second.events.filter(type=EventType.REPEAT_LINKED).exists()


def test_a_different_problem_or_place_is_not_a_repeat(submit):
    submit()
    assert submit(title="楼道灯坏了", description="3号楼二单元楼道灯不亮").repeat_of_id is None
    assert submit(POINT_OTHER_STREET).repeat_of_id is None


def test_an_old_complaint_is_outside_the_window(submit):
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        submit()
    assert submit().repeat_of_id is None


def test_text_similarity_is_symmetric_and_bounded():
    assert text_similarity("下水管堵塞", "下水管堵塞") == 1.0
    assert text_similarity("下水管堵塞", "路灯不亮") == 0.0
    assert text_similarity("a", "") == 0.0
