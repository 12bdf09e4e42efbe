// PicPool, every page: a request htmx could not complete is said in the
// page instead of failing silently. htmx does not swap 4xx/5xx answers, and
// the handlers answer refused forms with 200, so an error status here is a
// real failure (the server broke, or the session ended).
(function () {
	"use strict";

	function box() {
		return document.getElementById("htmx-error");
	}

	function show(text) {
		var el = box();
		if (!el) {
			return;
		}
		el.textContent = text;
		el.hidden = false;
	}

	document.addEventListener("htmx:responseError", function (evt) {
		var xhr = evt.detail.xhr;
		var status = xhr ? xhr.status : 0;
		if (status === 401 || status === 403) {
			show("Your session has ended or this action is not allowed (" + status + "). Reload the page and sign in again.");
			return;
		}
		// The server's other refusals (too many uploads at once, an upload
		// that came too slowly) are sentences for people in plain text.
		var type = xhr ? xhr.getResponseHeader("Content-Type") || "" : "";
		if (type.indexOf("text/plain") === 0 && xhr.responseText.trim() !== "") {
			show(xhr.responseText.trim());
			return;
		}
		if (status === 413) {
			show("The file is larger than the server accepts.");
			return;
		}
		show("The server could not complete the request (" + status + " " + (xhr ? xhr.statusText : "") + "). Try again.");
	});

	document.addEventListener("htmx:sendError", function () {
		show("The server could not be reached. Check that it is running and try again.");
	});

	// A request that went through clears the previous failure.
	document.addEventListener("htmx:afterRequest", function (evt) {
		var el = box();
		if (el && evt.detail.successful) {
			el.hidden = true;
			el.textContent = "";
		}
	});
})();
