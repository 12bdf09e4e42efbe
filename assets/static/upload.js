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

	// dropTarget makes zone take dropped files: it shows when files are
	// over it, and hands what is dropped (at least one file) to onFiles.
	function dropTarget(zone, onFiles) {
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
			if (files && files.length > 0) {
				onFiles(files);
			}
		});
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
			dropTarget(zone, function (files) {
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

	// Many images at once: each file gets a row with a key proposed from
	// its name, checked here like the form checks it (the server checks
	// again); "Upload all" sends them to POST /upload, as the form's htmx
	// request does, at most `parallel` at a time, each with its progress,
	// and ends with a summary of what was stored and what was refused.
	var parallel = 3;

	function proposeKey(name) {
		var key = name.replace(/\.[A-Za-z0-9]{1,5}$/, "").replace(/\//g, "-").trim();
		key = Array.from(key).slice(0, 250).join("");
		return key === "" || key === "." || key === ".." ? "image" : key;
	}

	function keyProblem(key) {
		if (key.trim() === "") {
			return "Type a key.";
		}
		if (key.indexOf("/") >= 0) {
			return 'The key cannot contain "/".';
		}
		if (key === "." || key === "..") {
			return 'The key cannot be "." or "..".';
		}
		if (Array.from(key).length > 250) {
			return "The key is longer than 250 characters.";
		}
		return "";
	}

	function initMany(box) {
		var input = box.querySelector("[data-many-input]");
		var zone = box.querySelector("[data-many-dropzone]");
		var list = box.querySelector("[data-many-list]");
		var start = box.querySelector("[data-many-start]");
		var summary = box.querySelector("[data-many-summary]");
		var maxBytes = Number(box.getAttribute("data-max-bytes")) || 0;
		var rows = [];
		box.hidden = false;

		function add(files) {
			Array.prototype.forEach.call(files, function (file) {
				var li = document.createElement("li");
				li.className = "many-item";
				li.setAttribute("data-testid", "upload-many-item");
				var name = document.createElement("span");
				name.className = "many-name";
				name.textContent = file.name + " · " + formatBytes(file.size);
				var key = document.createElement("input");
				key.type = "text";
				key.value = proposeKey(file.name);
				key.setAttribute("aria-label", "Key for " + file.name);
				key.setAttribute("data-testid", "upload-many-key");
				var bar = document.createElement("progress");
				bar.max = 100;
				bar.value = 0;
				var status = document.createElement("span");
				status.className = "many-status";
				status.setAttribute("data-testid", "upload-many-status");
				li.append(name, key, bar, status);
				list.append(li);
				rows.push({file: file, li: li, key: key, bar: bar, status: status, state: "waiting"});
			});
			start.disabled = rows.every(function (r) { return r.state !== "waiting"; });
		}

		function finish(row, state, message) {
			row.state = state;
			row.li.setAttribute("data-state", state);
			row.status.textContent = message;
			row.status.classList.toggle("is-error", state === "refused");
		}

		// send uploads one row as the form would, and reads the page's
		// answer: the result area says saved, or the field errors say why not.
		function send(row, done) {
			var problem = keyProblem(row.key.value);
			if (!problem && row.file.size === 0) {
				problem = "The file is empty.";
			}
			if (!problem && maxBytes > 0 && row.file.size > maxBytes) {
				problem = "The file is " + formatBytes(row.file.size) + "; the limit is " + formatBytes(maxBytes) + ".";
			}
			if (problem) {
				finish(row, "refused", problem);
				done();
				return;
			}
			row.key.readOnly = true;
			row.state = "sending";
			var body = new FormData();
			body.append("key", row.key.value);
			body.append("file", row.file, row.file.name);
			var xhr = new XMLHttpRequest();
			xhr.open("POST", "/upload");
			xhr.setRequestHeader("HX-Request", "true");
			xhr.upload.addEventListener("progress", function (evt) {
				if (evt.lengthComputable && evt.total > 0) {
					row.bar.value = (evt.loaded / evt.total) * 100;
				}
			});
			xhr.addEventListener("load", function () {
				var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
				if (xhr.status === 200 && doc.querySelector("[data-upload-ok]")) {
					row.bar.value = 100;
					finish(row, "stored", "Stored.");
				} else {
					var why = ["#upload-key-error", "#upload-file-error", '[data-testid="upload-error"]', '[data-testid="flash"]']
						.map(function (sel) { var e = doc.querySelector(sel); return e ? e.textContent.trim() : ""; })
						.filter(function (t) { return t !== ""; });
					finish(row, "refused", why.length ? why.join(" ") : "The server answered " + xhr.status + ".");
				}
				done();
			});
			xhr.addEventListener("error", function () {
				finish(row, "refused", "The upload did not reach the server.");
				done();
			});
			xhr.send(body);
		}

		function report() {
			var stored = rows.filter(function (r) { return r.state === "stored"; });
			var refused = rows.filter(function (r) { return r.state === "refused"; });
			summary.textContent = "";
			var p = document.createElement("p");
			p.setAttribute("data-testid", "upload-many-counts");
			p.textContent = stored.length + " stored, " + refused.length + " refused.";
			summary.append(p);
			if (refused.length) {
				var ul = document.createElement("ul");
				refused.forEach(function (r) {
					var li = document.createElement("li");
					li.setAttribute("data-testid", "upload-many-refused");
					li.textContent = r.file.name + " (" + r.key.value + "): " + r.status.textContent;
					ul.append(li);
				});
				summary.append(ul);
			}
		}

		start.addEventListener("click", function () {
			var queue = rows.filter(function (r) { return r.state === "waiting"; });
			start.disabled = true;
			summary.textContent = "";
			var running = 0;
			function next() {
				while (running < parallel && queue.length) {
					running++;
					send(queue.shift(), function () {
						running--;
						if (queue.length) {
							next();
						} else if (running === 0) {
							report();
						}
					});
				}
			}
			next();
		});

		input.addEventListener("change", function () {
			add(input.files);
			input.value = "";
		});
		dropTarget(zone, add);
	}

	document.querySelectorAll("[data-upload-many]").forEach(initMany);
})();
