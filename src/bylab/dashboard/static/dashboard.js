// The dashboard's script. Every page works without it (the selection is a GET form, every
// chart has its table); it adds the choropleth map (Leaflet), the charts (Chart.js), the year
// slider, instant re-selection and PNG downloads of charts.
"use strict";

function dashboardData(id) {
  var element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

function formatNumber(value, language) {
  return value === null || value === undefined ? "–"
    : new Intl.NumberFormat(language, {maximumSignificantDigits: 4}).format(value);
}

// ---------------------------------------------------------------- overview map

function choroplethMap(element, data) {
  var language = document.documentElement.lang || "en";
  var byId = new Map(data.places.map(function (place) { return [place.id, place]; }));
  var map = L.map(element, {zoomSnap: 0.25, attributionControl: false});
  map.setView([62.7, 7.2], 6);
  fetch(data.boundaries).then(function (response) { return response.json(); })
    .then(function (collection) {
      var layer = L.geoJSON(collection, {
        style: function (feature) {
          var place = byId.get(feature.properties.id);
          return {color: "#1b1f24", weight: 0.8, fillOpacity: place ? 0.9 : 0.15,
                  fillColor: place ? place.colour : "#ffffff", dashArray: place ? null : "3 3"};
        },
        onEachFeature: function (feature, shape) {
          var place = byId.get(feature.properties.id);
          var text = feature.properties.name + ": " + (place
            ? formatNumber(place.value, language) + " " + data.unit + " (#" + place.rank + ")"
            : element.dataset.noValue);
          shape.bindTooltip(text);
          shape.on("click", function () {
            window.location.assign(element.dataset.profileBase + feature.properties.id);
          });
        },
      }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), {padding: [8, 8]}); }
      element.dataset.ready = "true";
    });
  return map;
}

// A spatial dataset's rows, outlined, with their text columns as tooltips.
function featureMap(element) {
  var map = L.map(element, {zoomSnap: 0.25, attributionControl: false});
  map.setView([62.7, 7.2], 4);
  fetch(element.dataset.features).then(function (response) { return response.json(); })
    .then(function (collection) {
      var layer = L.geoJSON(collection, {
        style: {color: "#0b5cad", weight: 1, fillOpacity: 0.15},
        onEachFeature: function (feature, shape) {
          if (feature.properties.name) { shape.bindTooltip(feature.properties.name); }
        },
      }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), {padding: [8, 8]}); }
      element.dataset.ready = "true";
    });
}

// The year slider moves the (always present) year menu and submits the selection; a new KPI
// or region starts on its latest year.
function enhanceSelection(form) {
  var slider = form.querySelector("input[type=range]");
  var yearMenu = form.querySelector("select[name=year]");
  if (slider && yearMenu) {
    slider.hidden = false;
    var output = form.querySelector("output");
    slider.addEventListener("input", function () {
      yearMenu.selectedIndex = Number(slider.value);
      output.textContent = yearMenu.value;
    });
    slider.addEventListener("change", function () { form.submit(); });
  }
  form.addEventListener("change", function (event) {
    if (event.target === slider) { return; }
    if (event.target.name === "kpi" || event.target.name === "region") { yearMenu.disabled = true; }
    form.submit();
  });
}

// ---------------------------------------------------------------- charts

// Charts draw on white so that a downloaded PNG is readable on any background.
var whiteBackground = {
  id: "whiteBackground",
  beforeDraw: function (chart) {
    var context = chart.ctx;
    context.save();
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, chart.width, chart.height);
    context.restore();
  },
};

function lineChart(canvas, chart) {
  var language = document.documentElement.lang || "en";
  return new Chart(canvas, {
    type: chart.kind === "bar" || chart.periods.length < 2 ? "bar" : "line",
    data: {
      labels: chart.periods,
      datasets: chart.series.map(function (series) {
        return {label: series.name, data: series.values, borderColor: series.colour,
                backgroundColor: series.colour, spanGaps: true, pointRadius: 2};
      }),
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, locale: language,
      plugins: {legend: {position: "bottom"}},
    },
    plugins: [whiteBackground],
  });
}

function drawCharts() {
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var chart = dashboardData(canvas.dataset.chart);
    if (!chart || typeof Chart === "undefined") { return; }
    lineChart(canvas, chart);
    canvas.dataset.ready = "true";
  });
}

// A "PNG" link next to a chart downloads the chart's canvas as an image.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-png-of]");
  if (!link) { return; }
  var canvas = document.getElementById(link.dataset.pngOf);
  if (canvas) { link.href = canvas.toDataURL("image/png"); }
});

document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("selection");
  if (form) { enhanceSelection(form); }
  document.querySelectorAll("form[data-autosubmit-form]").forEach(function (other) {
    other.addEventListener("change", function () { other.submit(); });
  });
  var mapElement = document.getElementById("overview-map");
  if (mapElement && typeof L !== "undefined") {
    choroplethMap(mapElement, dashboardData("overview-data"));
  }
  var datasetMap = document.getElementById("dataset-map");
  if (datasetMap && typeof L !== "undefined") { featureMap(datasetMap); }
  drawCharts();
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
