// bylab's own small script. Every page works without it; it adds:
// - the language menu switches on change (the "Change" button is for no-JS use),
// - upload progress for forms marked data-upload-progress: the same multipart form is
//   posted with XMLHttpRequest so the upload's progress events can be shown.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.matches && target.matches("select[data-autosubmit]")) {
    target.form.submit();
  }
});

function showResponse(xhr, form) {
  // Success ends in a redirect to the dataset page, which XHR has followed: go there.
  if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL &&
      new URL(xhr.responseURL).pathname !== new URL(form.action).pathname) {
    window.location.assign(xhr.responseURL);
    return;
  }
  // Otherwise the server answered with the form again (with the error): show it.
  var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
  var main = page.querySelector("main");
  if (main) {
    document.querySelector("main").replaceWith(main);
    document.title = page.title;
    var alert = main.querySelector("[role=alert]");
    if (alert) { alert.setAttribute("tabindex", "-1"); alert.focus(); }
  } else {
    window.location.reload();
  }
}

function sendWithProgress(form) {
  var status = form.querySelector(".upload-status");
  var bar = form.querySelector("progress");
  var percent = form.querySelector(".upload-percent");
  var button = form.querySelector("button[type=submit]");
  var xhr = new XMLHttpRequest();
  status.hidden = false;
  button.disabled = true;
  xhr.upload.addEventListener("progress", function (event) {
    if (!event.lengthComputable) { return; }
    var done = Math.round(100 * event.loaded / event.total);
    bar.value = done;
    percent.textContent = done + " %";
  });
  xhr.upload.addEventListener("load", function () {
    percent.textContent = form.dataset.processing || "100 %";
  });
  xhr.addEventListener("load", function () { showResponse(xhr, form); });
  xhr.addEventListener("error", function () {
    button.disabled = false;
    status.hidden = true;
    form.submit();  // fall back to a plain form post
  });
  xhr.open("POST", form.action);
  xhr.send(new FormData(form));
}

document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches("form[data-upload-progress]") || !window.FormData) { return; }
  event.preventDefault();
  sendWithProgress(form);
});
