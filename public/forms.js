// Backyard's plain forms, with JavaScript on. Everything here also works without it (the
// server asks on /confirm, shows errors next to their fields, says what was done); this file
// only makes it smoother. A plain file rather than an island: no bytes in the wasm bundle.
(function () {
  "use strict";

  // A destructive form (data-confirm="question") asks in a dialog before it is sent; the
  // server acts only on a form carrying `confirmed`. data-confirm-if="name=value" asks only
  // when that field has that value (a moderator's "delete" among other actions).
  function needsAsking(form) {
    if (!form.dataset.confirm || form.querySelector('input[name="confirmed"]')) return false;
    var when = form.dataset.confirmIf;
    if (!when) return true;
    var parts = when.split("=");
    var field = form.elements.namedItem(parts[0]);
    return !!field && field.value === parts[1];
  }

  function markConfirmed(form) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "confirmed";
    input.value = "yes";
    form.appendChild(input);
  }

  function ask(form, submitter) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-question");
    var question = document.createElement("p");
    question.id = "confirm-dialog-question";
    question.textContent = form.dataset.confirm;
    var actions = document.createElement("div");
    actions.className = "form-actions";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "button danger";
    yes.textContent = form.dataset.confirmButton || "Delete";
    var no = document.createElement("button");
    no.type = "button";
    no.className = "button";
    no.textContent = "Cancel";
    actions.append(yes, no);
    dialog.append(question, actions);
    var confirmed = false;
    no.addEventListener("click", function () { dialog.close(); });
    yes.addEventListener("click", function () {
      confirmed = true;
      dialog.close();
    });
    dialog.addEventListener("close", function () {
      dialog.remove();
      if (confirmed) {
        markConfirmed(form);
        if (form.requestSubmit) form.requestSubmit(submitter || undefined);
        else form.submit();
      } else if (submitter) {
        submitter.focus();
      }
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    // The safe answer has the focus: Enter does not delete.
    no.focus();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !needsAsking(form)) return;
    event.preventDefault();
    if (typeof HTMLDialogElement === "function") {
      ask(form, event.submitter);
    } else if (window.confirm(form.dataset.confirm)) {
      markConfirmed(form);
      form.submit();
    }
  });

  // An error goes away once its field is changed; sending the form shows the new ones. The
  // message is hidden, not removed: an island's own rendering may still own that text.
  function clearError(event) {
    var target = event.target;
    var field = target && target.closest && target.closest(".field.has-error");
    if (!field) return;
    field.classList.remove("has-error");
    target.setAttribute("aria-invalid", "false");
    var message = field.querySelector(".field-error");
    if (message) message.hidden = true;
  }
  document.addEventListener("input", clearError);
  document.addEventListener("change", clearError);
  document.addEventListener("submit", function (event) {
    var messages = event.target.querySelectorAll ? event.target.querySelectorAll(".field-error[hidden]") : [];
    for (var i = 0; i < messages.length; i++) messages[i].hidden = false;
  }, true);

  // After an action, focus lands on what it did (its status, read out by screen readers), or
  // on the first field a returned form found wrong.
  function landFocus() {
    var status = document.querySelector('[data-status="done"]');
    var target = status || document.querySelector('form [aria-invalid="true"]');
    if (!target) return;
    target.focus();
    // The page's #fragment (the form, so a reader without JavaScript lands there) is applied
    // once the page is shown, after this ran: Chrome then drops the focus to the page when the
    // fragment's element takes no focus itself (a <details> around the form). Focus dropped to
    // nothing (no relatedTarget) while the page is still settling goes back to the target; a
    // key or a click meanwhile is the reader's own move and ends this.
    var stop = function () {
      target.removeEventListener("focusout", back);
      document.removeEventListener("pointerdown", stop, true);
      document.removeEventListener("keydown", stop, true);
    };
    var back = function (event) {
      if (!event.relatedTarget) setTimeout(function () {
        if (!document.activeElement || document.activeElement === document.body) target.focus();
      }, 0);
    };
    target.addEventListener("focusout", back);
    document.addEventListener("pointerdown", stop, true);
    document.addEventListener("keydown", stop, true);
    var settled = function () { setTimeout(stop, 1000); };
    if (document.readyState === "complete") settled();
    else window.addEventListener("load", settled);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", landFocus);
  } else {
    landFocus();
  }
})();

// Times (issue 19, owned apart from the forms code above): a <time data-exact> is a
// RelativeTime whose exact time the server wrote in the site's zone, for a visitor or a member
// on "automatic"; here it is rewritten in the browser's own zone, in the title and in the
// hidden text screen readers read. The relative words ("3 hours ago") stay. English date
// formats only (the page is English): the reader's own English (en-US, en-GB, ...) if any.
(function () {
  "use strict";
  function localTimes() {
    var format;
    try {
      var langs = navigator.languages || [navigator.language || ""];
      var lang = langs.filter(function (l) { return /^en(-|$)/i.test(l); })[0] || "en-GB";
      format = new Intl.DateTimeFormat(lang, {
        day: "numeric", month: "short", year: "numeric",
        hour: "numeric", minute: "2-digit", timeZoneName: "short"
      });
    } catch (e) {
      return; // No Intl: the server's text stands.
    }
    var times = document.querySelectorAll("time[data-exact][datetime]");
    for (var i = 0; i < times.length; i++) {
      var at = new Date(times[i].getAttribute("datetime"));
      if (isNaN(at.getTime())) continue;
      var exact = format.format(at);
      times[i].title = exact;
      var hidden = times[i].querySelector(".visually-hidden");
      if (hidden) hidden.textContent = " (" + exact + ")";
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", localTimes);
  } else {
    localTimes();
  }
})();

// Drafts (issue 19, owned apart from the blocks above): what is typed in a composer (reply,
// new topic, edit post, article editor) is kept in this browser's localStorage as it is typed,
// so leaving the page, a crash or a closed tab loses nothing. Opening that composer again with
// a different text in it offers the draft back ("Restore draft" / "Discard"), never replacing
// the text unasked. Leaving a composer holding unsent changes asks first (beforeunload).
// Without JavaScript the server's session drafts (app/src/server/drafts.rs) keep the text
// across log-in, preview and refusals; this adds the browser's own copy on top.
// Drafts are kept per signed-in name (a shared computer does not show one member's draft to
// another) and per composer, and forgotten once the post lands or after 30 days. A signed-in
// member's draft is also kept on the server (app/src/api/drafts.rs), a few seconds after
// typing stops, and offered on their other browsers: the newer of the two is offered.
(function () {
  "use strict";
  var store;
  try {
    store = window.localStorage;
    store.setItem("backyard:probe", "1");
    store.removeItem("backyard:probe");
  } catch (e) {
    return; // No storage (private mode, disabled): the leave-page warning alone is lost too.
  }
  var PREFIX = "backyard:draft:";
  // Set when a composer is sent; read by the next page to learn whether it landed (then the
  // draft goes) or came back (a refusal, a log-in first: the draft stays).
  var SENT = "backyard:draft-sent";
  var MAX_AGE = 30 * 24 * 3600 * 1000;
  // The text fields a draft keeps, where the form has them (the article editor's other fields
  // are settings, not writing).
  var FIELDS = ["title", "summary", "body"];
  // Buttons that send the form without posting it (previews, uploads, the similar-topics check
  // without JavaScript): the page comes back with the text.
  var NOT_SENDING = ["preview", "attach", "similar"];

  function who() {
    var name = document.querySelector(".signed-in-as strong");
    return name ? name.textContent : "";
  }

  // What the composer writes, from the fields the server puts in it (the same kinds as the
  // session drafts' keys in drafts.rs).
  function kindOf(form) {
    var field = function (name) { return form.querySelector('input[type="hidden"][name="' + name + '"]'); };
    if (form.id === "composer") {
      if (field("topic_id")) return "reply:" + field("topic_id").value;
      if (field("post_id")) return "edit:" + field("post_id").value;
      if (form.querySelector('[name="title"]')) return "topic";
    } else if (form.id === "editor" && field("article_id")) {
      return "article:" + field("article_id").value;
    }
    return null;
  }

  function storageKey(kind) { return PREFIX + who() + ":" + kind; }

  // The member's drafts on the server (a visitor has none). A failure leaves the browser's copy.
  var member = false;
  function remote(endpoint, fields, keepalive) {
    if (!member || typeof fetch !== "function") return Promise.resolve(null);
    return fetch("/api/" + endpoint, {
      method: "POST",
      body: new URLSearchParams(fields),
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { Accept: "application/json" }
    }).then(function (res) { return res.ok ? res.json() : null; })
      .catch(function () { return null; });
  }

  function read(key) {
    try {
      var saved = JSON.parse(store.getItem(key) || "null");
      return saved && saved.values && typeof saved.at === "number" ? saved : null;
    } catch (e) {
      return null;
    }
  }

  function fieldsOf(form) {
    var found = [];
    FIELDS.forEach(function (name) {
      var el = form.querySelector('[name="' + name + '"]');
      if (el && (el.tagName === "TEXTAREA" || el.type === "text")) found.push(el);
    });
    return found;
  }

  function valuesOf(form) {
    var values = {};
    fieldsOf(form).forEach(function (el) { values[el.name] = el.value; });
    return values;
  }

  function same(a, b) {
    return FIELDS.every(function (name) { return (a[name] || "") === (b[name] || ""); });
  }

  function blank(values) {
    return FIELDS.every(function (name) { return !(values[name] || "").trim(); });
  }

  // Forgets drafts nobody came back to.
  function sweep() {
    var now = Date.now();
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        var saved = read(key);
        if (!saved || now - saved.at > MAX_AGE) store.removeItem(key);
      }
    }
  }

  function ago(at) {
    var minutes = Math.floor((Date.now() - at) / 60000);
    if (minutes < 1) return "less than a minute ago";
    if (minutes < 60) return minutes + " min ago";
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + (hours === 1 ? " hour ago" : " hours ago");
    var days = Math.floor(hours / 24);
    return days + (days === 1 ? " day ago" : " days ago");
  }

  var composers = [];

  function Composer(form, kind) {
    var self = this;
    this.form = form;
    this.kind = kind;
    this.key = storageKey(kind);
    this.remoteTimer = null;
    // What the server was last sent, to send each change once; "nothing" at first, so a page
    // left untouched sends nothing.
    this.pushed = "null";
    // What the page opened with (a post's text being edited, or a draft the server kept).
    this.original = {};
    fieldsOf(form).forEach(function (el) { self.original[el.name] = el.defaultValue; });
    this.asking = false; // A "restore draft?" prompt is open: the old draft is not overwritten.
    this.sending = false;
    this.timer = null;
    form.addEventListener("input", function () {
      clearTimeout(self.timer);
      self.timer = setTimeout(function () { self.save(); }, 400);
    });
  }

  Composer.prototype.dirty = function () {
    return !this.sending && !same(valuesOf(this.form), this.original);
  };

  // Keeps what the form holds, or forgets the draft when nothing differs from what the page
  // opened with (typed, then deleted again).
  Composer.prototype.save = function () {
    clearTimeout(this.timer);
    if (this.asking) return;
    var values = valuesOf(this.form);
    try {
      if (same(values, this.original) || blank(values)) store.removeItem(this.key);
      else store.setItem(this.key, JSON.stringify({ values: values, at: Date.now() }));
    } catch (e) {
      // Storage full: the leave-page warning still protects the text.
    }
    var self = this;
    clearTimeout(this.remoteTimer);
    if (member) this.remoteTimer = setTimeout(function () { self.push(false); }, 2000);
  };

  // Sends the form's text to the member's server draft (nothing there when it is the page's
  // own text: an edit not changed, a draft typed and deleted again).
  Composer.prototype.push = function (keepalive) {
    clearTimeout(this.remoteTimer);
    this.remoteTimer = null;
    if (this.asking || this.sending) return;
    var values = valuesOf(this.form);
    var fields = { key: this.kind, title: values.title || "", summary: values.summary || "", body: values.body || "" };
    var unchanged = same(values, this.original);
    var sent = JSON.stringify(unchanged ? null : fields);
    if (sent === this.pushed) return;
    this.pushed = sent;
    if (unchanged) remote("discard_member_draft", { key: this.kind }, keepalive);
    else remote("save_member_draft", fields, keepalive);
  };

  Composer.prototype.fill = function (values) {
    var form = this.form;
    fieldsOf(form).forEach(function (el) {
      if (typeof values[el.name] !== "string" || el.value === values[el.name]) return;
      el.value = values[el.name];
      // The island follows its fields through input events (its preview, similar topics).
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
  };

  Composer.prototype.restore = function (values) {
    var self = this;
    this.fill(values);
    // Hydration may not have happened yet and would put the page's text back: fill again
    // once the island is live.
    if (this.form.dataset.ready === "false" && typeof MutationObserver === "function") {
      var watch = new MutationObserver(function () {
        if (self.form.dataset.ready === "true") {
          watch.disconnect();
          self.fill(values);
        }
      });
      watch.observe(this.form, { attributes: true, attributeFilter: ["data-ready"] });
    }
  };

  // Offers a kept draft that differs from the text on the page. The prompt goes before the
  // island, not inside it: hydration must find the island's markup as the server wrote it.
  Composer.prototype.offer = function () {
    var self = this;
    var local = read(this.key);
    if (!member) return this.ask(local);
    remote("member_draft", { key: this.kind }).then(function (kept) {
      var server = kept && typeof kept.saved_at === "number"
        ? { values: { title: kept.title, summary: kept.summary, body: kept.body }, at: kept.saved_at, remote: true }
        : null;
      // The newer of the two (offered, never put in unasked, so typing meanwhile is safe).
      var newest = !server ? local : !local ? server : server.at > local.at ? server : local;
      if (!self.sending) self.ask(newest);
    });
  };

  Composer.prototype.ask = function (saved) {
    var self = this;
    if (!saved) return;
    var values = valuesOf(this.form);
    if (blank(saved.values) || same(saved.values, values)) return;
    this.asking = true;
    var prompt = document.createElement("div");
    prompt.className = "draft-prompt";
    prompt.setAttribute("role", "status");
    var anchor = this.form.closest("leptos-island") || this.form;
    anchor.parentNode.insertBefore(prompt, anchor);
    var text = document.createElement("p");
    text.textContent = "You have an unsent draft from " + ago(saved.at) + ".";
    var restore = document.createElement("button");
    restore.type = "button";
    restore.className = "button";
    restore.textContent = "Restore draft";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button subtle";
    discard.textContent = "Discard";
    this.prompt = prompt;
    var done = function () {
      self.asking = false;
      self.prompt = null;
      prompt.remove();
      var body = self.form.querySelector('[name="body"]');
      if (body) body.focus();
    };
    restore.addEventListener("click", function () {
      self.restore(saved.values);
      done();
      self.save();
    });
    discard.addEventListener("click", function () {
      try { store.removeItem(self.key); } catch (e) { /* nothing kept */ }
      // keepalive: a page left right after still has it sent.
      remote("discard_member_draft", { key: self.kind }, true);
      done();
      // What was typed meanwhile is kept from now on.
      self.save();
    });
    // Filled after insertion, so screen readers announce it as news.
    setTimeout(function () { prompt.append(text, restore, " ", discard); }, 50);
  };

  // A composer was sent: no warning while the page goes to the new post. If the form comes
  // back with an error in place instead (JavaScript on), the text is unsent again.
  Composer.prototype.sent = function () {
    var self = this;
    // Sending answers an open "unsent draft" prompt: the text sent is the draft from now on
    // (forgotten once it lands, as the older one would be; kept if refused). Left open, the
    // prompt would keep the sent text from being saved, and a refusal would lose it.
    if (this.prompt) {
      this.prompt.remove();
      this.prompt = null;
      this.asking = false;
    }
    this.save();
    // The server keeps (or, once posted, forgets) the draft with the post itself: a late save
    // from here must not bring a posted draft back.
    clearTimeout(this.remoteTimer);
    this.sending = true;
    this.answered = false; // Set once the island's answer to this send is in.
    try {
      sessionStorage.setItem(SENT, JSON.stringify({ key: this.key, kind: this.kind, at: Date.now() }));
    } catch (e) { /* no session storage: the draft stays until discarded */ }
    var button = this.form.querySelector('button[type="submit"]:not([name])');
    var unsent = function () {
      self.sending = false;
      try { sessionStorage.removeItem(SENT); } catch (e) { /* nothing kept */ }
    };
    // The island marks its button aria-busy while the post is on its way (a fast answer can
    // come and go between two polls, hence an observer).
    if (!button || typeof MutationObserver !== "function") return;
    var busySeen = false;
    var watch = new MutationObserver(function (changes) {
      var busy = button.getAttribute("aria-busy") === "true";
      changes.forEach(function (c) { if (c.oldValue === "true") busySeen = true; });
      if (busy) {
        busySeen = true;
        return;
      }
      if (!busySeen) return;
      busySeen = false;
      self.answered = true;
      // The answer is in: an error shown in place is a refusal; otherwise the page is
      // on its way to the new post. (The island draws its errors a moment after the button
      // settles, hence the wait; a page left sooner decides on pagehide, see refusedInPlace.)
      setTimeout(function () { self.refusedInPlace(false); }, 100);
    });
    this.refused = function (keepalive) {
      watch.disconnect();
      unsent();
      // The server keeps nothing of a refused post: the member's server draft is sent now.
      self.push(keepalive);
    };
    watch.observe(button, { attributes: true, attributeOldValue: true, attributeFilter: ["aria-busy"] });
    // Whatever happened, a page still here a minute later warns again.
    setTimeout(function () { watch.disconnect(); unsent(); }, 60000);
  };

  // After the island's answer: an error shown in place means the post was refused, and the
  // text is unsent again (kept, warned about). Also asked on pagehide: a page left right after
  // a refusal must not leave the next page believing the post landed.
  Composer.prototype.refusedInPlace = function (keepalive) {
    if (!this.sending || !this.answered || !this.refused) return false;
    if (!this.form.querySelector(".form-error:not(.empty), .field.has-error")) return false;
    this.refused(keepalive);
    return true;
  };

  // The page after a send: the post landed unless the same composer is back holding text or
  // an error, or the writer was sent to log in first.
  function settleSent() {
    var sent;
    try {
      sent = JSON.parse(sessionStorage.getItem(SENT) || "null");
    } catch (e) {
      return;
    }
    if (!sent || typeof sent.key !== "string") return;
    if (Date.now() - sent.at > 3600 * 1000) {
      sessionStorage.removeItem(SENT);
      return;
    }
    if (/^\/(login|signup|confirm)(\/|$)/.test(location.pathname)) return;
    var back = composers.filter(function (c) { return c.key === sent.key; })[0];
    var landed = !back ||
      (blank(valuesOf(back.form)) && !back.form.querySelector(".form-error:not(.empty), .field.has-error"));
    sessionStorage.removeItem(SENT);
    if (landed) {
      try { store.removeItem(sent.key); } catch (e) { /* nothing kept */ }
      if (typeof sent.kind === "string") remote("discard_member_draft", { key: sent.kind }, true);
    }
  }

  function start() {
    member = who() !== "";
    sweep();
    var forms = document.querySelectorAll("form#composer, form#editor");
    for (var i = 0; i < forms.length; i++) {
      var kind = kindOf(forms[i]);
      if (kind) composers.push(new Composer(forms[i], kind));
    }
    settleSent();
    composers.forEach(function (c) { c.offer(); });
  }

  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && NOT_SENDING.indexOf(submitter.name) !== -1) return;
    composers.forEach(function (c) {
      if (c.form === event.target) c.sent();
    });
  }, true);

  // Text changed without typing (a quote added, an uploaded file's link) is kept on leaving.
  window.addEventListener("pagehide", function () {
    composers.forEach(function (c) {
      c.refusedInPlace(true);
      if (c.sending) return;
      c.save();
      if (member) c.push(true);
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (composers.some(function (c) { return c.dirty(); })) {
      event.preventDefault();
      event.returnValue = ""; // Older browsers ask only when this is set.
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
