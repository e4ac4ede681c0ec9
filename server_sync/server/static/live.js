// The patient's status page, live: long-polls /api/v1/tickets/{id}/live and swaps the card in
// place (no reload); after one tap, vibrates, beeps and notifies when the turn is near and
// when the patient is called. Inlined in the page and allowed by its CSP hash alone.
(function () {
  "use strict";
  var card = document.getElementById("live");
  if (!card || !window.fetch || !window.JSON) return;
  var src = card.getAttribute("data-src");
  var version = card.getAttribute("data-v");
  var state = card.getAttribute("data-state");
  var button = document.getElementById("alerts");
  var Audio = window.AudioContext || window.webkitAudioContext;
  var audio = null;
  var enabled = false;
  var delay = 0;

  function beep(times) {
    if (!audio) return;
    var start = audio.currentTime + 0.05;
    for (var i = 0; i < times; i++) {
      var at = start + i * 0.45;
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = i % 2 ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.6, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.4);
    }
  }

  function signal(strong) {
    if (!enabled) return;
    if (navigator.vibrate) navigator.vibrate(strong ? [500, 200, 500, 200, 500] : [300]);
    beep(strong ? 4 : 2);
  }

  function notify(title, body) {
    if (!enabled || !window.Notification || Notification.permission !== "granted") return;
    try {
      new Notification(title, { body: body, tag: src });
    } catch (e) {
      // Android's Chrome only notifies through a service worker: the vibration stays.
    }
  }

  if (button && (navigator.vibrate || Audio || window.Notification)) {
    button.hidden = false;
    button.addEventListener("click", function () {
      enabled = true;
      if (Audio && !audio) {
        try {
          audio = new Audio();
        } catch (e) {
          audio = null;
        }
      }
      if (audio && audio.resume) audio.resume();
      if (window.Notification && Notification.permission === "default") {
        try {
          Notification.requestPermission();
        } catch (e) {
          // an old browser without the promise form
        }
      }
      signal(false);
      button.textContent = button.getAttribute("data-on");
      button.disabled = true;
    });
  }

  function show(answer) {
    var before = state;
    version = answer.v;
    state = answer.state;
    card.innerHTML = answer.html;
    card.setAttribute("data-state", state);
    card.setAttribute("data-v", version);
    document.title = answer.title;
    if (state !== before && (state === "near" || state === "called")) {
      signal(state === "called");
      notify(answer.title, answer.say);
    }
  }

  function poll() {
    var url = src + (src.indexOf("?") < 0 ? "?" : "&") + "v=" + encodeURIComponent(version);
    fetch(url, { cache: "no-store", credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (answer) {
        delay = 0;
        if (answer.v !== version) show(answer);
        if (answer.live) poll();
      })
      .catch(function () {
        delay = Math.min(30000, delay ? delay * 2 : 2000);
        setTimeout(poll, delay);
      });
  }

  poll();
})();
