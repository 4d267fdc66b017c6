// The hubs map, loaded only when asked for: the list works without it, and map tiles come from
// a tile server the person chose to contact by pressing the button.
(function () {
  "use strict";
  var button = document.getElementById("show-map");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = button.dataset.css;
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = button.dataset.js;
    script.onload = function () { draw(button); };
    document.head.appendChild(script);
  });

  function draw(button) {
    var box = document.getElementById("hubs-map");
    box.hidden = false;
    var map = window.L.map(box);
    window.L.tileLayer(button.dataset.tiles, {
      maxZoom: 18,
      attribution: button.dataset.attribution,
    }).addTo(map);
    var points = [];
    document.querySelectorAll("[data-lat]").forEach(function (item) {
      var at = [parseFloat(item.dataset.lat), parseFloat(item.dataset.lon)];
      var link = document.createElement("a");
      link.href = item.dataset.url;
      link.textContent = item.dataset.name;
      window.L.marker(at).addTo(map).bindPopup(link);
      points.push(at);
    });
    if (points.length) map.fitBounds(points, { padding: [30, 30], maxZoom: 14 });
    button.hidden = true;
  }
})();
