// Signature pad of the consent tablet page: draws with a mouse, a pen or a finger (pointer events)
// on #signature-pad and, on submit, puts the drawing as a PNG data URL into the hidden input named
// by the canvas's data-target. Nothing is sent when nothing was drawn. No inline script (CSP).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  if (!canvas) { return; }
  var target = document.getElementById(canvas.getAttribute("data-target"));
  var form = canvas.closest("form");
  var clear = document.getElementById("signature-clear");
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var drawn = false;
  var last = null;

  function setup() {
    // keep the bitmap at the displayed size (at most 2x for sharp lines, within the server's limits)
    var ratio = Math.min(window.devicePixelRatio || 1, 2);
    var rect = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.min(Math.round(rect.width * ratio), 1600));
    canvas.height = Math.max(1, Math.min(Math.round(rect.height * ratio), 600));
    ctx.setTransform(canvas.width / rect.width, 0, 0, canvas.height / rect.height, 0, 0);
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    drawn = false;
  }

  function point(ev) {
    var rect = canvas.getBoundingClientRect();
    return { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
  }

  canvas.addEventListener("pointerdown", function (ev) {
    drawing = true;
    last = point(ev);
    if (canvas.setPointerCapture) { canvas.setPointerCapture(ev.pointerId); }
    ev.preventDefault();
  });
  canvas.addEventListener("pointermove", function (ev) {
    if (!drawing) { return; }
    var p = point(ev);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
    drawn = true;
    ev.preventDefault();
  });
  function stop() { drawing = false; last = null; }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("pointerleave", stop);

  if (clear) {
    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      if (target) { target.value = ""; }
    });
  }
  if (form && target) {
    form.addEventListener("submit", function () {
      target.value = drawn ? canvas.toDataURL("image/png") : "";
    });
  }
  setup();
})();
