// The patrol on a phone, offline too. Each form of class "queued" is sent with fetch; when the
// network is down the submission (fields, photos and its own idempotency key) waits in IndexedDB
// and is sent, in order, when the network is back. The server answers a repeated key with the
// first result, so nothing arrives twice. Without JavaScript the forms post normally.
(function () {
  var root = document.getElementById("patrol");
  if (!root) return;
  var statusBox = document.getElementById("queue-status");
  var DB = "patrol-outbox", STORE = "outbox";
  function msg(name) { return root.dataset["msg" + name.charAt(0).toUpperCase() + name.slice(1)] || ""; }

  if ("serviceWorker" in navigator && root.dataset.sw) {
    navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope }).catch(function () {});
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function add(item) { return tx("readwrite", function (s) { return s.add(item); }); }
  function remove(id) { return tx("readwrite", function (s) { return s.delete(id); }); }

  function show(text, tone) {
    if (!text) { statusBox.hidden = true; return; }
    statusBox.hidden = false;
    statusBox.className = "alert py-1 small alert-" + (tone || "warning");
    statusBox.textContent = text;
  }
  function refreshStatus(extra) {
    return all().then(function (items) {
      root.dataset.queued = String(items.length);
      if (items.length) show(msg("queued").replace("{n}", items.length) + " " + (extra || ""));
      else show(extra || "", extra ? "info" : "");
    });
  }
  function toItem(form) {
    var data = new FormData(form);
    var fields = [], files = [];
    data.forEach(function (value, name) {
      if (value instanceof File) { if (value.size) files.push([name, value, value.name]); }
      else fields.push([name, value]);
    });
    return { url: form.action, fields: fields, files: files, queuedAt: Date.now() };
  }
  function toFormData(item) {
    var data = new FormData();
    item.fields.forEach(function (f) { data.append(f[0], f[1]); });
    item.files.forEach(function (f) { data.append(f[0], f[1], f[2]); });
    return data;
  }
  function post(item) {
    return fetch(item.url, {
      method: "POST", body: toFormData(item), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    });
  }

  var flushing = false;
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    var sent = 0, refused = [];
    return all().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function (stop) {
          if (stop) return true;
          return post(item).then(function (response) {
            return response.json().catch(function () { return {}; }).then(function (body) {
              if (!response.ok) refused.push(body.message || response.status);
              else sent += 1;
              return remove(item.id).then(function () { return false; });
            });
          }, function () { return true; });  // still offline: keep the rest for later
        });
      }, Promise.resolve(false));
    }).then(function () {
      flushing = false;
      var note = sent ? msg("sent").replace("{n}", sent) : "";
      if (refused.length) note += " " + msg("refused") + " " + refused.join("; ");
      return refreshStatus(note).then(function () {
        if (sent && navigator.onLine) setTimeout(function () { window.location.reload(); }, 800);
      });
    }, function () { flushing = false; });
  }

  document.querySelectorAll("form.queued").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var item = toItem(form);
      var keyInput = form.querySelector("input[name=client_key]");
      post(item).then(function (response) {
        if (response.ok) { window.location.href = root.dataset.scope; return; }
        form.submit();  // the server's own page shows what to correct (nothing was written)
      }, function () {
        add(item).then(function () {
          form.reset();
          if (keyInput) keyInput.value = newKey();  // the next submission is a new one
          refreshStatus();
        });
      });
    });
  });

  document.querySelectorAll(".locate").forEach(function (button) {
    if (!navigator.geolocation) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var form = button.closest("form"), label = form.querySelector(".located");
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector("input[name=lon]").value = pos.coords.longitude.toFixed(6);
        form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(6);
        label.textContent = msg("located") + " " + pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5);
      }, function () { label.textContent = msg("unlocated"); }, { enableHighAccuracy: true, timeout: 10000 });
    });
  });

  window.addEventListener("online", flush);
  refreshStatus().then(function () { if (navigator.onLine) flush(); });
  setInterval(function () { if (navigator.onLine) flush(); }, 30000);
})();
