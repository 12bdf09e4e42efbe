// PicPool upload page: drag and drop onto the drop zone, the type and size
// hints checked before sending, and a progress bar while htmx uploads. The
// form works without this script (and without htmx) as a plain multipart
// POST; the server checks everything again.
(function () {
	"use strict";

	var accepted = ["image/png", "image/jpeg", "image/gif", "image/webp"];

	function formatBytes(n) {
		var units = ["KiB", "MiB", "GiB"];
		if (n < 1024) {
			return n + " bytes";
		}
		var i = -1;
		do {
			n /= 1024;
			i++;
		} while (n >= 1024 && i < units.length - 1);
		return n.toFixed(1).replace(/\.0$/, "") + " " + units[i]; // as the server writes it
	}

	function init(form) {
		var input = form.querySelector('input[type="file"]');
		var zone = form.querySelector("[data-dropzone]");
		var nameOut = form.querySelector("[data-file-name]");
		var progress = form.querySelector("[data-upload-progress]");
		var bar = progress && progress.querySelector("progress");
		var percent = progress && progress.querySelector("[data-upload-percent]");
		var maxBytes = Number(input.getAttribute("data-max-bytes")) || 0;

		// The file error slot may be replaced by an htmx answer (out of
		// band), so look it up each time.
		function fileError() {
			return document.getElementById("upload-file-error");
		}

		// check says in the error slot what is wrong with the chosen file,
		// and blocks sending it; the browser shows the same message.
		function check() {
			var file = input.files && input.files[0];
			var msg = "";
			if (file) {
				if (file.size === 0) {
					msg = "The file is empty.";
				} else if (maxBytes > 0 && file.size > maxBytes) {
					msg = "The file is " + formatBytes(file.size) + "; the limit is " + formatBytes(maxBytes) + ".";
				} else if (file.type && accepted.indexOf(file.type) < 0) {
					msg = "That is not a PNG, JPEG, GIF or WebP image.";
				}
			}
			input.setCustomValidity(msg);
			var slot = fileError();
			if (slot) {
				slot.textContent = msg;
			}
			if (nameOut) {
				nameOut.textContent = file ? file.name + " · " + formatBytes(file.size) : "";
			}
		}

		input.addEventListener("change", check);

		if (zone) {
			["dragenter", "dragover"].forEach(function (type) {
				zone.addEventListener(type, function (evt) {
					evt.preventDefault();
					zone.classList.add("is-over");
				});
			});
			["dragleave", "dragend"].forEach(function (type) {
				zone.addEventListener(type, function () {
					zone.classList.remove("is-over");
				});
			});
			zone.addEventListener("drop", function (evt) {
				evt.preventDefault();
				zone.classList.remove("is-over");
				var files = evt.dataTransfer && evt.dataTransfer.files;
				if (!files || files.length === 0) {
					return;
				}
				// Only the first file: the form uploads one image per key.
				var dt = new DataTransfer();
				dt.items.add(files[0]);
				input.files = dt.files;
				check();
			});
		}

		function setProgress(p) {
			if (bar) {
				bar.value = p;
			}
			if (percent) {
				percent.textContent = Math.round(p) + " %";
			}
		}

		form.addEventListener("htmx:beforeRequest", function () {
			if (progress) {
				setProgress(0);
				progress.hidden = false;
			}
		});
		// htmx 2 fires htmx:xhr:progress on the form while the body is sent.
		form.addEventListener("htmx:xhr:progress", function (evt) {
			if (evt.detail.lengthComputable && evt.detail.total > 0) {
				setProgress((evt.detail.loaded / evt.detail.total) * 100);
			}
		});
		form.addEventListener("htmx:afterRequest", function (evt) {
			if (progress) {
				progress.hidden = true;
			}
			// A saved upload empties the form for the next one; a refused one
			// keeps both fields so that only the wrong one needs fixing.
			if (evt.detail.successful && document.querySelector("#upload-result [data-upload-ok]")) {
				form.reset();
				check();
			}
		});
	}

	document.querySelectorAll("[data-upload-form]").forEach(init);
})();
