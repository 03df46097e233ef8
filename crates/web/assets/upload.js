// The legacy import form: sends the file in the background and shows how far it got. The
// server imports the records as they arrive, so the bytes sent are the import's progress.
// Without scripts the form posts as usual and the result page follows.
document.querySelectorAll('form[data-upload]').forEach(function (form) {
  form.addEventListener('submit', function (event) {
    var file = form.querySelector('input[type=file]');
    if (!file || !file.files.length || !window.FormData) return;
    event.preventDefault();
    var bar = form.querySelector('progress');
    var text = form.querySelector('[data-progress-text]');
    var button = form.querySelector('button[type=submit]');
    bar.hidden = false;
    text.hidden = false;
    button.disabled = true;
    var started = Date.now();
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      bar.max = e.total;
      bar.value = e.loaded;
      var secs = Math.max((Date.now() - started) / 1000, 0.001);
      var rate = e.loaded / secs;
      var left = rate > 0 ? Math.ceil((e.total - e.loaded) / rate) : 0;
      text.textContent = Math.floor((100 * e.loaded) / e.total) + '% · ' +
        (rate / 1048576).toFixed(1) + ' MB/s · about ' + left + ' s left';
    };
    xhr.upload.onload = function () { text.textContent = 'Finishing the import…'; };
    xhr.onload = function () {
      if (xhr.status < 400) {
        window.location.assign(xhr.responseURL);
        return;
      }
      var page = new DOMParser().parseFromString(xhr.responseText, 'text/html');
      var message = page.querySelector('main p');
      text.textContent = message ? message.textContent : 'The import failed.';
      button.disabled = false;
    };
    xhr.onerror = function () {
      text.textContent = 'The upload broke off. Try again.';
      button.disabled = false;
    };
    xhr.send(new FormData(form));
  });
});
