/* Switchboard's request form for a tenant's site: one script tag, no build step.
 *   <script src="https://switchboard.example/public/v1/sites/<key>/form.js" async></script>
 * Optional attributes on the tag: data-target="#id" (where the form goes; after the tag otherwise),
 * data-lang="en" (Russian otherwise), data-type="callback" (a fixed request type, no type list).
 * The page's UTM tags (utm_source … utm_term) are kept for the visit and sent with the request. */
(function () {
  "use strict";
  var CONFIG = __CONFIG__;
  var script = document.currentScript || (function () {
    var all = document.querySelectorAll("script[src*='/public/v1/sites/" + CONFIG.key + "/form.js']");
    return all[all.length - 1];
  })();
  var lang = (script && script.getAttribute("data-lang")) === "en" ? "en" : "ru";
  var T = {
    ru: { title: "Оставьте заявку", name: "Имя", phone: "Телефон", email: "E-mail", message: "Сообщение", type: "Тема",
          send: "Отправить", sending: "Отправляем…", done: "Спасибо! Мы свяжемся с вами.", failed: "Не удалось отправить: ",
          contact: "Укажите телефон или e-mail" },
    en: { title: "Leave a request", name: "Name", phone: "Phone", email: "E-mail", message: "Message", type: "Subject",
          send: "Send", sending: "Sending…", done: "Thank you! We will get back to you.", failed: "Not sent: ",
          contact: "Give a phone number or an e-mail" }
  }[lang];
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];

  function utm() {
    var out = {}, params = new URLSearchParams(window.location.search), stored = {};
    try { stored = JSON.parse(window.sessionStorage.getItem("switchboard-utm") || "{}"); } catch (e) { stored = {}; }
    UTM.forEach(function (k) { var v = params.get(k) || stored[k]; if (v) { out[k] = v.slice(0, 200); } });
    try { window.sessionStorage.setItem("switchboard-utm", JSON.stringify(out)); } catch (e) { /* private mode */ }
    return out;
  }
  var visitUTM = utm();

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) { e.textContent = text; }
    return e;
  }
  function field(form, name, label, input) {
    var id = "sbf-" + CONFIG.key.slice(-6) + "-" + name;
    input.id = id;
    input.name = name;
    var row = el("p", { "class": "sbf-row" });
    row.appendChild(el("label", { "for": id }, label));
    row.appendChild(input);
    form.appendChild(row);
    return input;
  }
  function requestId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  var form = el("form", { "class": "switchboard-form", "novalidate": "novalidate", "data-site": CONFIG.key });
  form.appendChild(el("h3", {}, T.title));
  var fixedType = script && script.getAttribute("data-type");
  var type = null;
  if (!fixedType && CONFIG.types.length > 0) {
    type = el("select", {});
    CONFIG.types.forEach(function (t) { type.appendChild(el("option", { value: t }, t)); });
    field(form, "type", T.type, type);
  }
  var name = field(form, "name", T.name, el("input", { type: "text", maxlength: "200", autocomplete: "name" }));
  var phone = field(form, "phone", T.phone, el("input", { type: "tel", maxlength: "50", autocomplete: "tel" }));
  var email = field(form, "email", T.email, el("input", { type: "email", maxlength: "254", autocomplete: "email" }));
  var message = field(form, "message", T.message, el("textarea", { rows: "4", maxlength: "5000" }));
  var button = el("button", { type: "submit" }, T.send);
  form.appendChild(button);
  var status = el("p", { "class": "sbf-status", "role": "status", "aria-live": "polite" });
  form.appendChild(status);
  // One id per filled form: sending it twice (a double click, a retry) stays one request.
  var pending = requestId();

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!phone.value.trim() && !email.value.trim()) { status.textContent = T.contact; status.className = "sbf-status sbf-error"; return; }
    var body = { requestId: pending, name: name.value, phone: phone.value, email: email.value, message: message.value,
                 page: window.location.href.slice(0, 2000), utm: visitUTM };
    if (fixedType) { body.type = fixedType; } else if (type) { body.type = type.value; }
    Object.keys(body).forEach(function (k) { if (body[k] === "") { delete body[k]; } });
    button.disabled = true;
    status.textContent = T.sending;
    status.className = "sbf-status";
    fetch(CONFIG.endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, json: j }; }); })
      .then(function (r) {
        if (!r.ok) { throw new Error((r.json && r.json.error && r.json.error.message) || "error"); }
        status.textContent = T.done;
        status.className = "sbf-status sbf-done";
        form.reset();
        pending = requestId();
      })
      .catch(function (e) { status.textContent = T.failed + e.message; status.className = "sbf-status sbf-error"; })
      .then(function () { button.disabled = false; });
  });

  var target = script && script.getAttribute("data-target") ? document.querySelector(script.getAttribute("data-target")) : null;
  if (target) { target.appendChild(form); }
  else if (script && script.parentNode) { script.parentNode.insertBefore(form, script.nextSibling); }
  else { document.body.appendChild(form); }
})();
