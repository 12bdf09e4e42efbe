// PicPool statistics page: draws each chart from the ECharts option the
// server embedded next to it, and merges the live updates that htmx polls
// into #stats-live. An update carries only the x axis bounds and the series
// data: setOption merges it and leaves the dataZoom as the user set it, so
// a zoomed chart stays zoomed.
(function () {
	"use strict";

	function readJSON(el) {
		if (!el) {
			return null;
		}
		try {
			return JSON.parse(el.textContent);
		} catch (e) {
			return null;
		}
	}

	function initCharts() {
		document.querySelectorAll("[data-chart]").forEach(function (el) {
			if (echarts.getInstanceByDom(el)) {
				return;
			}
			var option = readJSON(document.getElementById(el.id + "-option"));
			if (!option) {
				return;
			}
			echarts.init(el, null, { renderer: "canvas" }).setOption(option);
		});
	}

	function applyUpdate() {
		var update = readJSON(document.getElementById("stats-live-data"));
		if (!update || !update.charts) {
			return;
		}
		update.charts.forEach(function (c) {
			var el = document.getElementById(c.id);
			var chart = el && echarts.getInstanceByDom(el);
			if (chart) {
				chart.setOption(c.option); // merge: dataZoom is not in it
			}
		});
	}

	document.addEventListener("click", function (evt) {
		var button = evt.target.closest("[data-reset-zoom]");
		if (!button) {
			return;
		}
		var el = document.getElementById(button.getAttribute("data-reset-zoom"));
		var chart = el && echarts.getInstanceByDom(el);
		if (chart) {
			chart.dispatchAction({ type: "dataZoom", start: 0, end: 100 });
		}
	});

	document.addEventListener("htmx:afterSwap", function (evt) {
		if (evt.detail.target && evt.detail.target.id === "stats-live") {
			applyUpdate();
		}
	});

	var resizeTimer = 0;
	window.addEventListener("resize", function () {
		clearTimeout(resizeTimer);
		resizeTimer = setTimeout(function () {
			document.querySelectorAll("[data-chart]").forEach(function (el) {
				var chart = echarts.getInstanceByDom(el);
				if (chart) {
					chart.resize();
				}
			});
		}, 150);
	});

	initCharts();
})();
