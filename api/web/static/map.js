/* The territory map: companies, their flows coloured by resource family,
 * substitutions as lines and mutualisation rounds as dashed routes.
 * Data: the GeoJSON embedded in #donnees-carte (the same as carte.geojson).
 * OpenStreetMap tiles when they load; offline, a background of the French
 * départements' outlines and the main towns (served by the app). A search
 * box finds companies by name, commune or resource. Every text from the
 * data is set with textContent, never as HTML. */
(function () {
  "use strict";

  var container = document.getElementById("carte");
  var dataNode = document.getElementById("donnees-carte");
  if (!container || !dataNode || typeof L === "undefined") { return; }

  var data = JSON.parse(dataNode.textContent);
  var companyUrl = container.dataset.entrepriseUrl;
  var synergyUrl = container.dataset.synergieUrl;
  var panel = document.getElementById("panneau-entreprise");
  var select = document.getElementById("choix-entreprise");
  var form = document.getElementById("filtres-carte");
  var baseStatus = document.getElementById("etat-fond");
  var townsNode = document.getElementById("donnees-villes");
  var search = document.getElementById("recherche-carte");
  var searchStatus = document.getElementById("resultat-recherche");
  var TYPE_FR = { substitution: "Substitution", mutualisation: "Mutualisation" };
  var DIRECTION_FR = { out: "Sortant", "in": "Entrant" };
  var RING_PX = 13;

  // ---- colours: one CSS custom property per family (app.css), read once ----
  var colours = {};
  function colour(family) {
    if (!(family in colours)) {
      var probe = document.createElement("span");
      probe.className = "fam-" + family;
      probe.hidden = true;
      document.body.appendChild(probe);
      colours[family] = getComputedStyle(probe).getPropertyValue("--fam").trim() || "#6b7280";
      probe.remove();
    }
    return colours[family];
  }

  function tooltip(lines) {
    var box = document.createElement("div");
    lines.forEach(function (text, i) {
      var line = document.createElement(i === 0 ? "strong" : "div");
      line.textContent = text;
      box.appendChild(line);
    });
    return box;
  }

  function number(value) {
    return new Intl.NumberFormat("fr-FR", { maximumFractionDigits: value >= 100 ? 0 : 1 }).format(value || 0);
  }

  // ---- map and backgrounds ----
  var map = L.map(container, { zoomControl: true, attributionControl: true });
  var plain = L.layerGroup();
  plain.getAttribution = function () { return "Départements : Natural Earth · villes : INSEE, Etalab (Licence Ouverte)"; };

  // the offline background: départements' outlines (fetched from the app) and the main towns, named
  map.createPane("fond");
  map.getPane("fond").style.zIndex = 250;
  fetch(container.dataset.fondUrl, { credentials: "same-origin" })
    .then(function (answer) { return answer.ok ? answer.json() : null; })
    .then(function (outlines) {
      if (!outlines) { return; }
      var layer = L.geoJSON(outlines, {
        pane: "fond", interactive: false,
        style: { color: "#94a3b8", weight: 1.2, fillColor: "#f8fafc", fillOpacity: 1, className: "departement" }
      });
      layer.addTo(plain);
      container.dataset.fondDepartements = String(outlines.features.length);
    })
    .catch(function () { container.dataset.fondDepartements = "0"; });
  (townsNode ? JSON.parse(townsNode.textContent) : []).forEach(function (town) {
    var dot = L.circleMarker([town.lat, town.lon], {
      pane: "fond", radius: 3, color: "#475569", weight: 1, fillColor: "#475569", fillOpacity: 1,
      interactive: false, className: "ville"
    });
    dot.bindTooltip(document.createTextNode(town.name), {
      permanent: true, direction: "right", className: "etiquette-ville", offset: [4, 0]
    });
    dot.addTo(plain);
  });
  var tiles = L.tileLayer(container.dataset.tiles, {
    maxZoom: 19,
    attribution: "&copy; <a href=\"https://www.openstreetmap.org/copyright\">les contributeurs d'OpenStreetMap</a>"
  });
  var tileLoaded = false;
  var tileErrors = 0;

  function usePlain(message) {
    if (map.hasLayer(tiles)) { map.removeLayer(tiles); }
    if (!map.hasLayer(plain)) { plain.addTo(map); }
    container.classList.add("map-plain");
    container.dataset.fond = "uni";
    if (baseStatus && message) { baseStatus.textContent = message; }
  }

  tiles.on("tileload", function () { tileLoaded = true; container.dataset.fond = "osm"; });
  tiles.on("tileerror", function () {
    tileErrors += 1;
    if (!tileLoaded && tileErrors >= 2) {
      usePlain("Fond OpenStreetMap indisponible (hors ligne) : la carte s'affiche sur le fond des départements et des villes.");
    }
  });
  L.control.layers({ "OpenStreetMap": tiles, "Départements et villes (hors ligne)": plain }, null, { collapsed: true }).addTo(map);
  map.on("baselayerchange", function (e) {
    var isPlain = e.layer === plain;
    container.classList.toggle("map-plain", isPlain);
    container.dataset.fond = isPlain ? "uni" : "osm";
  });
  if (navigator.onLine === false) {
    usePlain("Hors ligne : la carte s'affiche sur le fond des départements et des villes.");
  } else {
    tiles.addTo(map);
    window.setTimeout(function () {
      if (!tileLoaded && map.hasLayer(tiles)) {
        usePlain("Le fond OpenStreetMap ne répond pas : la carte s'affiche sur le fond des départements et des villes.");
      }
    }, 6000);
  }
  L.control.scale({ imperial: false }).addTo(map);

  // ---- features ----
  var companies = {};      // id -> {props, latlng, marker}
  var flowsByCompany = {}; // company id -> [flow layers]
  var flowLayers = [];
  var synergyLayers = [];
  var bounds = L.latLngBounds([]);
  var companyGroup = L.featureGroup();
  var flowGroup = L.featureGroup();
  var synergyGroup = L.featureGroup();

  function latlng(coords) { return L.latLng(coords[1], coords[0]); }

  function openCompany(id) {
    if (!id) { return; }
    if (select) { select.value = id; }
    var url = companyUrl + encodeURIComponent(id);
    htmx.ajax("GET", url, { target: "#panneau-entreprise", swap: "innerHTML" }).then(function () {
      if (panel) { panel.focus({ preventScroll: false }); }
    });
  }

  data.features.forEach(function (f) {
    var p = f.properties;
    if (p.kind !== "company" || !f.geometry) { return; }
    var where = latlng(f.geometry.coordinates);
    var marker = L.circleMarker(where, {
      radius: 8, color: "#1f2937", weight: 2, fillColor: "#ffffff", fillOpacity: 1, className: "entreprise"
    });
    marker.bindTooltip(tooltip([p.name, (p.city ? p.city + " · " : "") + p.flows + " flux"]), { direction: "top", offset: [0, -8] });
    marker.on("click", function () { openCompany(p.id); });
    marker.addTo(companyGroup);
    companies[p.id] = { props: p, latlng: where, marker: marker };
    bounds.extend(where);
  });

  data.features.forEach(function (f) {
    var p = f.properties;
    if (p.kind !== "flow" || !f.geometry) { return; }
    var c = colour(p.family);
    var probable = p.status === "probable";  // pre-diagnostic guess: dotted, pale, "à confirmer"
    var layer = L.circleMarker(latlng(f.geometry.coordinates), {
      radius: 5, color: c, weight: 2, fillColor: p.direction === "out" ? c : "#ffffff",
      fillOpacity: probable ? 0.2 : 1, opacity: probable ? 0.7 : 1, dashArray: probable ? "2 3" : null,
      className: "flux flux-" + p.family + (probable ? " flux-probable" : "")
    });
    layer.bindTooltip(tooltip([
      (probable ? "Probable " + Math.round(100 * (p.probability || 0)) + " % (à confirmer) · " : "") +
        (DIRECTION_FR[p.direction] || p.direction) + " · " + p.family_label,
      p.label || p.resource,
      number(p.quantity) + " " + p.unit + "/an"
    ]), { direction: "top" });
    layer.on("click", function () { openCompany(p.company_id); });
    layer.feature = f;
    layer.home = latlng(f.geometry.coordinates);
    flowLayers.push(layer);
    (flowsByCompany[p.company_id] = flowsByCompany[p.company_id] || []).push(layer);
    bounds.extend(layer.home);
  });

  // A synergy's shape: a line per supplier → receiver (substitution), the
  // polyline of its collection round, a star from the members' centre for a
  // group purchase or shared service (MultiPoint), a ring for a lone point.
  function centre(points) {
    var lat = 0;
    var lng = 0;
    points.forEach(function (p) { lat += p.lat; lng += p.lng; });
    return L.latLng(lat / points.length, lng / points.length);
  }

  function synergyShape(geometry, style) {
    var type = geometry.type;
    var coords = geometry.coordinates;
    if (type === "LineString") { return L.polyline(coords.map(latlng), style); }
    if (type === "MultiLineString") {
      return L.polyline(coords.map(function (line) { return line.map(latlng); }), style);
    }
    var points = type === "MultiPoint" ? coords.map(latlng) : (type === "Point" ? [latlng(coords)] : []);
    if (!points.length) { return null; }
    var middle = centre(points);
    var distinct = points.filter(function (p) { return !p.equals(middle); });
    if (!distinct.length) {
      return L.circleMarker(middle, L.extend({}, style, { radius: 11, fill: false }));
    }
    return L.polyline(distinct.map(function (p) { return [middle, p]; }), style);
  }

  var synergyTotal = 0;
  data.features.forEach(function (f) {
    var p = f.properties;
    if (p.kind !== "synergy" || !f.geometry) { return; }
    synergyTotal += 1;
    var layer = synergyShape(f.geometry, {
      color: colour(p.family), weight: p.type === "substitution" ? 4 : 3, opacity: 0.85,
      dashArray: p.type === "mutualisation" ? "8 6" : null,
      className: "synergie synergie-" + p.type + " synergie-" + f.geometry.type.toLowerCase()
    });
    if (!layer) { return; }
    layer.bindTooltip(tooltip([
      p.id + " · " + (TYPE_FR[p.type] || p.type), p.family_label,
      number(p.quantity) + " " + String(p.unit || "").replace("/year", "/an")
    ]), { sticky: true });
    layer.on("click", function () { window.location.href = synergyUrl + encodeURIComponent(p.id); });
    layer.feature = f;
    synergyLayers.push(layer);
    bounds.extend(layer.getBounds ? layer.getBounds() : L.latLngBounds([layer.getLatLng()]));
  });
  container.dataset.synergiesTotal = String(synergyTotal);
  container.dataset.synergiesDessinees = String(synergyLayers.length);

  // Flows of one company sit on a small ring around it, re-laid at every zoom.
  function layoutFlows() {
    Object.keys(flowsByCompany).forEach(function (id) {
      var layers = flowsByCompany[id];
      var company = companies[id];
      layers.forEach(function (layer, i) {
        var at = layer.home;
        if (company && company.latlng.equals(layer.home)) {
          var angle = (2 * Math.PI * i) / layers.length - Math.PI / 2;
          var point = map.latLngToLayerPoint(company.latlng).add([RING_PX * Math.cos(angle), RING_PX * Math.sin(angle)]);
          at = map.layerPointToLatLng(point);
        }
        layer.setLatLng(at);
      });
    });
  }

  // ---- filters ----
  function checked(name) {
    var values = {};
    form.querySelectorAll("input[name='" + name + "']").forEach(function (input) { values[input.value] = input.checked; });
    return values;
  }

  function applyFilters() {
    var families = checked("famille");
    var types = checked("type");
    var showFlows = checked("couche").flow !== false;
    var shownFlows = 0;
    var shownSynergies = 0;
    flowLayers.forEach(function (layer) {
      var visible = showFlows && families[layer.feature.properties.family] !== false;
      if (visible) { shownFlows += 1; flowGroup.addLayer(layer); } else { flowGroup.removeLayer(layer); }
    });
    synergyLayers.forEach(function (layer) {
      var p = layer.feature.properties;
      var visible = types[p.type] !== false && families[p.family] !== false;
      if (visible) { shownSynergies += 1; synergyGroup.addLayer(layer); } else { synergyGroup.removeLayer(layer); }
    });
    flowGroup.bringToFront();
    companyGroup.bringToFront();
    container.dataset.fluxAffiches = String(shownFlows);
    container.dataset.synergiesAffichees = String(shownSynergies);
  }

  // ---- search: a company by its name or commune, or by the resources of its flows ----
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var searchText = {};
  Object.keys(companies).forEach(function (id) {
    var p = companies[id].props;
    var words = [p.name, p.city];
    (flowsByCompany[id] || []).forEach(function (layer) {
      var fp = layer.feature.properties;
      words.push(fp.label, fp.resource, fp.family_label);
    });
    searchText[id] = fold(words.join(" | "));
  });

  function runSearch() {
    var query = fold(search.value).trim();
    var found = [];
    Object.keys(companies).forEach(function (id) {
      var hit = query.length >= 2 && searchText[id].indexOf(query) !== -1;
      var marker = companies[id].marker;
      var element = marker.getElement && marker.getElement();
      if (element) { element.classList.toggle("trouvee", hit); }
      marker.setStyle(hit ? { radius: 11, color: "#b45309", weight: 4 } : { radius: 8, color: "#1f2937", weight: 2 });
      if (hit) { found.push(companies[id]); }
    });
    container.dataset.trouvees = String(found.length);
    if (!searchStatus) { return; }
    if (query.length < 2) { searchStatus.textContent = ""; return; }
    searchStatus.textContent = found.length === 0 ? "Aucune entreprise trouvée." :
      found.length + (found.length > 1 ? " entreprises trouvées : " : " entreprise trouvée : ") +
      found.slice(0, 5).map(function (c) { return c.props.name; }).join(", ") + (found.length > 5 ? "…" : "");
    if (found.length) {
      map.fitBounds(L.latLngBounds(found.map(function (c) { return c.latlng; })), { padding: [40, 40], maxZoom: 14 });
    }
  }

  if (search) {
    search.addEventListener("input", runSearch);
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        e.preventDefault();
        runSearch();
        var first = Object.keys(companies).filter(function (id) {
          var el = companies[id].marker.getElement && companies[id].marker.getElement();
          return el && el.classList.contains("trouvee");
        });
        if (first.length === 1) { openCompany(first[0]); }
      }
    });
  }

  if (form) {
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("change", function (e) {
      if (e.target === select) { openCompany(select.value); } else if (e.target !== search) { applyFilters(); }
    });
  }

  synergyGroup.addTo(map);
  flowGroup.addTo(map);
  companyGroup.addTo(map);  // companies on top: a click on a company always opens it
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
  } else {
    map.setView([46.6, 2.4], 5);
  }
  layoutFlows();
  map.on("zoomend", layoutFlows);
  applyFilters();
  container.dataset.pret = "oui";
})();
