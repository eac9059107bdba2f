/* Switchboard's chat widget for a tenant's site: one script tag, no build step.
 *   <script src="https://switchboard.example/public/v1/sites/<key>/chat.js" async></script>
 * A button in the corner opens the chat; the visitor writes, operators answer from Switchboard's workspace.
 * The chat lives for the browser tab (sessionStorage); answers come over a WebSocket as they are written (the chat's
 * token in its first message); while the socket is not open, they are fetched every few seconds and the socket is
 * tried again after 1, 2, 4 … 30 s.
 * Optional attribute on the tag: data-lang="en" (Russian otherwise). */
(function () {
  "use strict";
  var CONFIG = __CONFIG__;
  var script = document.currentScript;
  var lang = (script && script.getAttribute("data-lang")) === "en" ? "en" : "ru";
  var T = {
    ru: { open: "Чат", title: "Напишите нам", placeholder: "Ваше сообщение", send: "Отправить", name: "Имя", phone: "Телефон",
          details: "Оставьте телефон, мы перезвоним", save: "Сохранить", saved: "Спасибо!", finished: "Чат завершён",
          you: "Вы", operator: "Оператор", failed: "Не отправлено: " },
    en: { open: "Chat", title: "Write to us", placeholder: "Your message", send: "Send", name: "Name", phone: "Phone",
          details: "Leave your number and we will call back", save: "Save", saved: "Thank you!", finished: "The chat is over",
          you: "You", operator: "Operator", failed: "Not sent: " }
  }[lang];
  var STORE = "switchboard-chat-" + CONFIG.key;
  var state = null;
  try { state = JSON.parse(window.sessionStorage.getItem(STORE) || "null"); } catch (e) { state = null; }
  var shown = 0, timer = null, socket = null, live = false, retry = 1000, reconnect = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) { e.textContent = text; }
    return e;
  }
  function css(e, s) { e.setAttribute("style", s); return e; }
  function save() { try { window.sessionStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode */ } }
  function call(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state && state.token) { headers["X-Chat-Token"] = state.token; }
    return fetch(CONFIG.chats + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) { throw new Error((j && j.error && j.error.message) || ("HTTP " + r.status)); }
          return j;
        });
      });
  }

  var button = css(el("button", { type: "button", "class": "sbc-open" }, T.open),
    "position:fixed;right:20px;bottom:20px;z-index:2147483000;padding:10px 18px;border-radius:20px;border:0;background:#2563eb;color:#fff;font:inherit;cursor:pointer");
  var panel = css(el("div", { "class": "sbc-panel", role: "dialog", "aria-label": T.title }),
    "position:fixed;right:20px;bottom:70px;z-index:2147483000;width:320px;max-width:90vw;background:#fff;border:1px solid #ccc;border-radius:10px;box-shadow:0 4px 20px rgba(0,0,0,.15);display:none;font:14px system-ui,sans-serif;color:#222");
  panel.appendChild(css(el("div", {}, T.title), "padding:10px 12px;font-weight:600;border-bottom:1px solid #eee"));
  var log = css(el("div", { "class": "sbc-log", "aria-live": "polite" }), "height:240px;overflow-y:auto;padding:8px 12px");
  panel.appendChild(log);
  var status = css(el("div", { "class": "sbc-status" }), "padding:0 12px;color:#b42318;font-size:12px");
  panel.appendChild(status);
  var form = css(el("form", { "class": "sbc-form" }), "display:flex;gap:6px;padding:8px 12px;border-top:1px solid #eee");
  var input = css(el("input", { type: "text", name: "text", maxlength: "5000", placeholder: T.placeholder, "aria-label": T.placeholder }), "flex:1;padding:6px");
  form.appendChild(input);
  form.appendChild(el("button", { type: "submit" }, T.send));
  panel.appendChild(form);
  var details = css(el("form", { "class": "sbc-details" }), "padding:4px 12px 10px;font-size:12px");
  details.appendChild(el("div", {}, T.details));
  var name = css(el("input", { type: "text", name: "name", maxlength: "200", placeholder: T.name, "aria-label": T.name }), "width:40%;padding:4px;margin-right:4px");
  var phone = css(el("input", { type: "tel", name: "phone", maxlength: "50", placeholder: T.phone, "aria-label": T.phone }), "width:40%;padding:4px");
  details.appendChild(name);
  details.appendChild(phone);
  details.appendChild(el("button", { type: "submit" }, T.save));
  panel.appendChild(details);

  function line(m) {
    var who = m.author === "visitor" ? T.you : (m.name || T.operator);
    var row = css(el("div", { "class": "sbc-msg sbc-" + m.author }), "margin:4px 0;" + (m.author === "visitor" ? "text-align:right" : ""));
    row.appendChild(css(el("div", {}, who), "font-size:11px;color:#666"));
    row.appendChild(css(el("span", {}, m.text), "display:inline-block;padding:5px 8px;border-radius:8px;background:" +
      (m.author === "visitor" ? "#dbeafe" : "#f1f5f9")));
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }
  function show(view) {
    if (!state) { return; }
    // The socket and a poll may both bring a message: each is shown once, by its place in the chat.
    var messages = view.messages || [], first = view.total - messages.length;
    messages.forEach(function (m, i) { if (first + i >= shown) { line(m); } });
    shown = Math.max(shown, view.total);
    if (view.state === "finished") {
      log.appendChild(css(el("div", { "class": "sbc-finished" }, T.finished), "text-align:center;color:#666;margin:6px 0"));
      input.disabled = true;
      stop();
      state = null;
      save();
      if (socket) { socket.close(); }
    }
  }
  function setLive(on) { live = on; panel.setAttribute("data-live", on ? "socket" : "polling"); }
  function connect() {
    reconnect = null;
    if (!state || socket || !window.WebSocket) { return; }
    var ws;
    try { ws = new WebSocket(CONFIG.chats.replace(/^http/, "ws") + "/" + encodeURIComponent(state.chatId) + "/live"); }
    catch (e) { return; }
    socket = ws;
    ws.onopen = function () { ws.send(JSON.stringify({ type: "auth", token: state.token, after: shown })); };
    ws.onmessage = function (event) {
      var view;
      try { view = JSON.parse(event.data); } catch (e) { return; }
      if (view.type !== "chat") { return; }
      retry = 1000;
      setLive(true);
      if (timer) { window.clearInterval(timer); timer = null; }
      show(view);
    };
    ws.onclose = function () {
      if (socket !== ws) { return; }
      socket = null;
      setLive(false);
      if (!state) { return; }
      poll();
      start();
      reconnect = window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  function poll() {
    if (!state) { return; }
    call("GET", "/" + encodeURIComponent(state.chatId) + "?after=" + shown)
      .then(show).catch(function () { /* the next poll tries again */ });
  }
  /* Keeps the chat coming: over the socket, or by polling until it opens. */
  function start() {
    if (!timer && !live) { timer = window.setInterval(poll, 2500); }
    if (!socket && !reconnect) { connect(); }
  }
  function stop() {
    if (timer) { window.clearInterval(timer); timer = null; }
    if (reconnect) { window.clearTimeout(reconnect); reconnect = null; }
  }

  button.addEventListener("click", function () {
    var open = panel.style.display === "none";
    panel.style.display = open ? "block" : "none";
    if (open) { input.focus(); if (state) { poll(); start(); } }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    status.textContent = "";
    var page = window.location.href.slice(0, 2000);
    var sent = state
      ? call("POST", "/" + encodeURIComponent(state.chatId) + "/messages", { text: text }).then(function () { if (!live) { poll(); } })
      : call("POST", "", { text: text, page: page }).then(function (view) {
          state = { chatId: view.chatId, token: view.token };
          save();
          show(view);
          start();
        });
    sent.catch(function (e) { status.textContent = T.failed + e.message; input.value = text; });
  });
  details.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!state) { status.textContent = T.placeholder; return; }
    var body = {};
    if (name.value.trim()) { body.name = name.value.trim(); }
    if (phone.value.trim()) { body.phone = phone.value.trim(); }
    call("POST", "/" + encodeURIComponent(state.chatId) + "/messages", body)
      .then(function () { status.textContent = ""; details.firstChild.textContent = T.saved; })
      .catch(function (e) { status.textContent = T.failed + e.message; });
  });

  function mount() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
    if (state) { poll(); start(); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
