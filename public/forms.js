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
    if (target) target.focus();
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
