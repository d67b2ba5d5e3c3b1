/* Anshin staff survey: progressive enhancement of the one-page form.
 *
 * Without this file the survey is the whole form on one page, and it still posts the same way.
 * With it:
 *   - one section per screen, Back / Next, a sticky bar counting answered items, and a last
 *     screen that lists unanswered items before the (unchanged) submit button;
 *   - the answers are kept in this browser only (localStorage, under a key derived from a
 *     SHA-256 of the code), so a reload, the back button or the link opened again later finds
 *     them. They are never sent anywhere by this script; the form's own POST is the only
 *     request. They are removed when the thank-you page is reached and by the
 *     "forget my answers on this device" button.
 *
 * No inline script or style is needed (the CSP forbids both): everything is attached here.
 */
(function () {
  "use strict";

  var STORE_PREFIX = "anshin-answers-v1:";
  var SENT_KEY = "anshin-sent"; // sessionStorage: which stored answers the thank-you page forgets

  function storage(kind) {
    try {
      var s = window[kind];
      var probe = "anshin-probe";
      s.setItem(probe, probe);
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null; // storage disabled (private mode, policy): steps still work, nothing kept
    }
  }

  /* ---- SHA-256 (FIPS 180-4), so the key never holds the code itself. crypto.subtle would
     need a secure context, which a plain-HTTP intranet server is not. ---------------------- */
  function sha256Hex(text) {
    var K = [
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
    ];
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var bytes = [];
    var utf8 = unescape(encodeURIComponent(text));
    for (var i = 0; i < utf8.length; i++) bytes.push(utf8.charCodeAt(i));
    var bitLength = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) bytes.push(0);
    for (i = 7; i >= 0; i--) bytes.push(i >= 4 ? 0 : (bitLength >>> (i * 8)) & 0xff);
    var w = new Array(64);
    function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }
    for (var offset = 0; offset < bytes.length; offset += 64) {
      for (i = 0; i < 16; i++) {
        var j = offset + i * 4;
        w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
      }
      for (i = 16; i < 64; i++) {
        var s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (i = 0; i < 64; i++) {
        var S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        var ch = (e & f) ^ (~e & g);
        var t1 = (h + S1 + ch + K[i] + w[i]) | 0;
        var S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        var maj = (a & b) ^ (a & c) ^ (b & c);
        var t2 = (S0 + maj) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
      H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
    }
    var hex = "";
    for (i = 0; i < 8; i++) hex += ("00000000" + (H[i] >>> 0).toString(16)).slice(-8);
    return hex;
  }

  /* ---- The thank-you page: forget what was kept for the survey just sent. ---------------- */
  function forgetSent() {
    var session = storage("sessionStorage");
    var local = storage("localStorage");
    if (!session || !local) return;
    var key = session.getItem(SENT_KEY);
    if (key && key.indexOf(STORE_PREFIX) === 0) local.removeItem(key);
    session.removeItem(SENT_KEY);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function byId(id) { return document.getElementById(id); }

  /* ---- The survey form ------------------------------------------------------------------ */
  function enhance(form) {
    var local = storage("localStorage");
    var session = storage("sessionStorage");
    var codeInput = form.querySelector('input[name="code"]');
    var code = codeInput ? codeInput.value.replace(/[^0-9A-Za-z]/g, "").toUpperCase() : "";
    var key = code ? STORE_PREFIX + sha256Hex("anshin answers\n" + code).slice(0, 32) : null;

    var bar = byId("stepper-bar");
    var progress = byId("answered-progress");
    var answeredText = byId("answered-text");
    var screenText = byId("screen-text");
    var preamble = byId("preamble");
    var review = byId("review");
    var reviewList = byId("review-list");
    var reviewMissing = byId("review-missing");
    var reviewComplete = byId("review-complete");
    var reviewRequired = byId("review-required");
    var submitArea = byId("submit-area");
    var nav = byId("step-nav");
    var backButton = byId("step-back");
    var nextButton = byId("step-next");
    var saved = byId("saved-on-device");
    var forgetButton = byId("forget-answers");
    var forgetStatus = byId("forget-status");
    if (!bar || !review || !submitArea || !nav || !backButton || !nextButton) return;

    var sections = Array.prototype.slice.call(form.querySelectorAll("section.part"));
    var steps = sections.concat([review]);
    var current = 0;

    // Every question: radio groups by name (in page order), and the comment.
    var groups = [];
    var seen = {};
    Array.prototype.forEach.call(form.querySelectorAll('input[type="radio"]'), function (input) {
      if (seen[input.name]) return;
      seen[input.name] = true;
      var box = input.closest(".item");
      var legend = box ? box.querySelector(".item-text") : null;
      groups.push({
        name: input.name,
        box: box,
        required: input.required,
        text: legend ? legend.textContent.replace(/\s+/g, " ").trim() : input.name
      });
    });
    var comment = form.querySelector('textarea[name="comment"]');

    function checkedValue(name) {
      var checked = form.querySelector('input[type="radio"][name="' + name + '"]:checked');
      return checked ? checked.value : null;
    }

    function stepOf(element) {
      for (var i = 0; i < steps.length; i++) {
        if (steps[i].contains(element)) return i;
      }
      return -1;
    }

    /* Answers kept in this browser. */
    function load() {
      if (!local || !key) return null;
      try {
        var data = JSON.parse(local.getItem(key) || "null");
        return data && typeof data === "object" && data.answers ? data : null;
      } catch (e) {
        return null;
      }
    }

    function save() {
      if (!local || !key) return;
      var answers = {};
      var any = false;
      groups.forEach(function (group) {
        var value = checkedValue(group.name);
        if (value !== null) { answers[group.name] = value; any = true; }
      });
      var text = comment ? comment.value : "";
      if (!any && !text.trim()) {
        local.removeItem(key);
        return;
      }
      try {
        local.setItem(key, JSON.stringify({ answers: answers, comment: text, step: current }));
      } catch (e) {
        /* quota: keep going without */
      }
    }

    function restore(data) {
      if (!data) return;
      groups.forEach(function (group) {
        if (checkedValue(group.name) !== null) return; // what the server gave back wins
        var value = data.answers[group.name];
        if (typeof value !== "string") return;
        Array.prototype.forEach.call(
          form.querySelectorAll('input[type="radio"][name="' + group.name + '"]'),
          function (input) { if (input.value === value) input.checked = true; }
        );
      });
      if (comment && !comment.value.trim() && typeof data.comment === "string") {
        comment.value = data.comment;
      }
    }

    /* The sticky bar, and the review list. */
    function unanswered() {
      return groups.filter(function (group) { return checkedValue(group.name) === null; });
    }

    function updateProgress() {
      var missing = unanswered().length;
      var answered = groups.length - missing;
      progress.max = groups.length || 1;
      progress.value = answered;
      answeredText.textContent = fill(form.dataset.answered || "{n} / {total}", {
        n: answered,
        total: groups.length
      });
      screenText.textContent = fill(form.dataset.screen || "{n} / {total}", {
        n: current + 1,
        total: steps.length
      });
    }

    function updateReview() {
      var missing = unanswered();
      while (reviewList.firstChild) reviewList.removeChild(reviewList.firstChild);
      missing.forEach(function (group) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "review-link" + (group.required ? " review-link-required" : "");
        button.textContent = group.text;
        button.addEventListener("click", function () { goToItem(group.box); });
        li.appendChild(button);
        reviewList.appendChild(li);
      });
      reviewMissing.hidden = missing.length === 0;
      reviewComplete.hidden = missing.length !== 0;
      reviewList.hidden = missing.length === 0;
    }

    /* Showing one step. */
    function show(index, options) {
      options = options || {};
      current = Math.max(0, Math.min(index, steps.length - 1));
      steps.forEach(function (step, i) { step.hidden = i !== current; });
      var last = current === steps.length - 1;
      if (preamble) preamble.hidden = current !== 0;
      submitArea.hidden = !last;
      backButton.hidden = current === 0;
      nextButton.hidden = last;
      nextButton.textContent = current === steps.length - 2
        ? (form.dataset.review || nextButton.textContent)
        : (form.dataset.next || nextButton.textContent);
      if (last) updateReview();
      if (!last && reviewRequired) reviewRequired.hidden = true;
      updateProgress();
      if (options.push && window.history && history.pushState) {
        // No new address: only the step is remembered, so the back button walks the steps.
        history.pushState({ anshinStep: current }, "");
      }
      if (options.focus !== false) {
        var heading = steps[current].querySelector("h2");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus({ preventScroll: true });
        }
        form.scrollIntoView({ block: "start" });
        window.scrollTo(0, 0);
      }
      save();
    }

    function goToItem(box) {
      if (!box) return;
      var index = stepOf(box);
      if (index < 0) return;
      show(index, { push: index !== current, focus: false });
      box.scrollIntoView({ block: "start" });
      var first = box.querySelector("input:checked") || box.querySelector("input, textarea");
      if (first) first.focus({ preventScroll: true });
    }

    /* Wire it up. */
    form.noValidate = true; // hidden steps cannot take the browser's bubble; the review does
    document.documentElement.classList.add("js-steps");
    bar.hidden = false;
    nav.hidden = false;
    if (saved && local && key) saved.hidden = false;

    restore(load());

    form.addEventListener("change", function () {
      updateProgress();
      if (current === steps.length - 1) updateReview();
      save();
    });
    if (comment) comment.addEventListener("input", save);

    backButton.addEventListener("click", function () { show(current - 1, { push: true }); });
    nextButton.addEventListener("click", function () { show(current + 1, { push: true }); });

    window.addEventListener("popstate", function (event) {
      var state = event.state;
      if (state && typeof state.anshinStep === "number") show(state.anshinStep, {});
      else show(0, {});
    });

    // Links of the server's error summary lead into another step.
    form.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest('a[href^="#"]') : null;
      if (!link) return;
      var target = byId(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      goToItem(target.closest(".item") || target);
    });

    // Which button sent the form, for browsers without SubmitEvent.submitter (Safari < 15.4).
    var lastSubmitter = null;
    form.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest('button[type="submit"]') : null;
      if (button) lastSubmitter = button;
    });

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter || lastSubmitter;
      lastSubmitter = null;
      if (submitter && submitter.name === "switch_lang") {
        save(); // the page comes back in the other language, at this step
        return;
      }
      var missingRequired = unanswered().filter(function (group) { return group.required; });
      if (missingRequired.length > 0) {
        event.preventDefault();
        if (current !== steps.length - 1) show(steps.length - 1, { push: true });
        if (reviewRequired) reviewRequired.hidden = false;
        var firstButton = reviewList.querySelector(".review-link-required");
        if (firstButton) firstButton.focus();
        return;
      }
      save();
      if (session && key) session.setItem(SENT_KEY, key);
    });

    if (forgetButton) {
      forgetButton.addEventListener("click", function () {
        if (local && key) local.removeItem(key);
        Array.prototype.forEach.call(form.querySelectorAll('input[type="radio"]:checked'), function (input) {
          input.checked = false;
        });
        if (comment) comment.value = "";
        updateProgress();
        if (forgetStatus) forgetStatus.textContent = forgetButton.dataset.done || "";
        if (local && key) local.removeItem(key);
      });
    }

    // Where to start: the first item the server asked to correct, else the step kept.
    var firstError = form.querySelector(".item-error");
    var kept = load();
    if (firstError) {
      show(stepOf(firstError), { focus: false });
      history.replaceState && history.replaceState({ anshinStep: current }, "");
      goToItem(firstError);
    } else {
      var start = kept && typeof kept.step === "number" ? kept.step : 0;
      if (history.state && typeof history.state.anshinStep === "number") start = history.state.anshinStep;
      show(start, { focus: false });
      if (history.replaceState) history.replaceState({ anshinStep: current }, "");
    }
  }

  function start() {
    var form = byId("survey-form");
    if (form) enhance(form);
    else if (document.querySelector(".panel-success")) forgetSent();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
