// The map of the search results: an enhancement. The list stays the complete view; without JavaScript,
// or without a configured tile URL (then the page has no #results-map at all), no map is offered.
// The markers are the result cards on this page (data-lat/data-lon), so the map follows every filter
// and accessibility profile of the search. Each marker is a button named after its unit; Enter (or a
// click) takes the reader to that unit's card in the list.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var section = document.getElementById("results-map");
  if (!section || typeof L === "undefined") { return; }
  var cards = Array.prototype.slice.call(document.querySelectorAll(".result-card[data-lat][data-lon]"));
  if (!cards.length) { return; }
  section.hidden = false;

  var canvas = document.getElementById("results-map-canvas");
  var map = L.map(canvas, {
    zoomControl: false,
    keyboard: true,
    scrollWheelZoom: false  // the page scrolls past the map; zoom with the buttons or + and -
  });
  L.control.zoom({zoomInTitle: section.dataset.zoomIn, zoomOutTitle: section.dataset.zoomOut}).addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  L.tileLayer(section.dataset.tileUrl, {attribution: section.dataset.attribution, maxZoom: 18}).addTo(map);

  var bounds = [], markers = [];
  var list = document.querySelector("ol.result-list");
  var first = list ? parseInt(list.getAttribute("start"), 10) || 1 : 1;  // page 2 starts at 21
  cards.forEach(function (card, index) {
    var lat = parseFloat(card.dataset.lat), lon = parseFloat(card.dataset.lon);
    if (isNaN(lat) || isNaN(lon)) { return; }
    var link = card.querySelector("h3 a");
    var number = first + index;
    var name = number + ". " + (link ? link.textContent.trim() : "");
    var fit = card.querySelector(".profile-fit[data-meets]");
    if (fit) { name += ": " + fit.dataset.meets; }
    // The list's number on the marker, so that eyes find the card too; the full name for screen readers.
    var icon = L.divIcon({className: "map-marker", html: '<span aria-hidden="true">' + number + "</span>",
                          iconSize: [30, 30], iconAnchor: [15, 15]});
    var marker = L.marker([lat, lon], {icon: icon, title: name, keyboard: true, riseOnHover: true});
    function toCard() {
      card.scrollIntoView({block: "start"});
      if (link) { link.focus(); }
    }
    marker.on("click", toCard);
    marker.on("keypress", function (e) {  // a button: Enter or Space
      var key = e.originalEvent.key;
      if (key === "Enter" || key === " ") { e.originalEvent.preventDefault(); toCard(); }
    });
    marker.on("add", function () {  // the icon exists once the map has a view
      var element = marker.getElement();
      element.setAttribute("aria-label", name);
      element.setAttribute("aria-describedby", "results-map-hint");
      element.dataset.unit = card.id;
    });
    markers.push(marker);
    bounds.push([lat, lon]);
  });
  if (!bounds.length) { section.hidden = true; return; }
  if (bounds.length === 1) {
    map.setView(bounds[0], 14);
  } else {
    map.fitBounds(bounds, {padding: [32, 32], maxZoom: 15});
  }
  markers.forEach(function (marker) { marker.addTo(map); });  // in list order: Tab follows the list
});
