/*
 * The phone report form (随手拍 and the grid worker's 上报问题):
 * cases/mobile/_report_form.html.
 *
 * Location: "使用当前位置" asks the browser (which gives WGS-84), or a tap on
 * the small ECharts map of the grid outlines picks a point (the outlines are
 * stored in WGS-84, so a tapped point is too); either fills the lon/lat fields
 * and sets the coordinate system to wgs84. The fields can also be typed, with
 * GCJ-02 or BD-09 for coordinates copied from Chinese map apps; the server
 * converts them. The status line says which grid the point is in, or that it
 * is outside every grid (still accepted: the centre receives it).
 *
 * Category: as the description is typed, the classifier's top three are put
 * at the head of the select; on the worker's form the first is preselected
 * until the worker chooses one themselves.
 *
 * For tests: window.wanggeReportMap is the ECharts instance; the map element
 * carries data-ready="1" once drawn, and the status line data-grid (the grid's
 * code, "" outside); the form carries data-suggested (codes, comma-separated).
 *
 * Nothing here formats prose: the text comes translated from the page
 * (json_script "report-strings").
 */
(function () {
  'use strict';

  var form = document.getElementById('report-form');
  if (!form) {
    return;
  }
  var T = JSON.parse(document.getElementById('report-strings').textContent);
  var fields = form.elements;
  var lon = fields.lon;
  var lat = fields.lat;
  var crs = fields.crs;
  var status = document.getElementById('location-status');
  var mapEl = document.getElementById('report-map');
  var features = [];
  var chart = null;

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) {
      return values[k] !== undefined ? values[k] : m;
    });
  }

  // ---- which grid a point is in (ray casting; outlines are small) ----------

  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function inPolygon(x, y, rings) {
    if (!rings.length || !inRing(x, y, rings[0])) {
      return false;
    }
    for (var k = 1; k < rings.length; k++) {
      if (inRing(x, y, rings[k])) {
        return false;  // in a hole
      }
    }
    return true;
  }

  function gridAt(x, y) {
    for (var i = 0; i < features.length; i++) {
      var g = features[i].geometry;
      var polygons = g.type === 'Polygon' ? [g.coordinates]
        : g.type === 'MultiPolygon' ? g.coordinates : [];
      for (var p = 0; p < polygons.length; p++) {
        if (inPolygon(x, y, polygons[p])) {
          return features[i].properties;
        }
      }
    }
    return null;
  }

  // ---- the chosen point --------------------------------------------------------

  function setStatus(text, kind, grid) {
    status.textContent = text;
    status.className = 'location-status' + (kind ? ' ' + kind : '');
    status.dataset.grid = grid || '';
  }

  function mark(point) {
    if (chart) {
      chart.setOption({series: [{data: point ? [point] : []}]});
    }
  }

  function showPoint(extra) {
    var x = parseFloat(lon.value);
    var y = parseFloat(lat.value);
    if (!isFinite(x) || !isFinite(y)) {
      setStatus(T.none, '', '');
      mark(null);
      return;
    }
    var shown = {lon: x.toFixed(5), lat: y.toFixed(5)};
    if (crs.value !== 'wgs84' || !features.length) {
      // Another coordinate system, or no outlines: the server locates it.
      shown.crs = crs.options[crs.selectedIndex].text;
      setStatus(fill(T.manual, shown), 'picked', '');
      mark(crs.value === 'wgs84' ? [x, y] : null);
      return;
    }
    var grid = gridAt(x, y);
    shown.grid = grid ? grid.name : '';
    var text = fill(grid ? T.in_grid : T.outside, shown);
    setStatus(extra ? text + ' · ' + extra : text, grid ? 'picked' : 'outside',
              grid ? grid.code : '');
    mark([x, y]);
  }

  function setPoint(x, y, extra) {
    lon.value = x.toFixed(6);
    lat.value = y.toFixed(6);
    crs.value = 'wgs84';
    showPoint(extra);
  }

  [lon, lat, crs].forEach(function (input) {
    input.addEventListener('input', function () { showPoint(); });
    input.addEventListener('change', function () { showPoint(); });
  });

  // ---- "使用当前位置" ------------------------------------------------------------

  var locate = document.getElementById('use-location');
  locate.addEventListener('click', function () {
    // Browsers offer geolocation only to secure pages (HTTPS or localhost).
    if (!navigator.geolocation || window.isSecureContext === false) {
      setStatus(T.geo_unsupported, 'outside', '');
      return;
    }
    setStatus(T.locating, '', '');
    locate.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      locate.disabled = false;
      var c = pos.coords;
      setPoint(c.longitude, c.latitude,
               c.accuracy ? fill(T.accuracy, {m: Math.round(c.accuracy)}) : '');
    }, function (err) {
      locate.disabled = false;
      setStatus(err.code === 1 ? T.geo_denied : err.code === 3 ? T.geo_timeout
        : T.geo_unavailable, 'outside', '');
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });

  // ---- the map of grid outlines ------------------------------------------------

  function unavailable(text) {
    mapEl.className = 'report-map unavailable';
    mapEl.textContent = text;
    mapEl.removeAttribute('role');
  }

  function drawMap(geojson) {
    features = (geojson && geojson.features) || [];
    if (!features.length) {
      unavailable(T.no_grids);
      showPoint();
      return;
    }
    if (typeof window.echarts === 'undefined') {
      unavailable(T.map_failed);
      showPoint();
      return;
    }
    var names = {};
    var south = 90, north = -90;
    features.forEach(function (f) {
      names[f.properties.code] = f.properties.name;
      var g = f.geometry;
      (g.type === 'Polygon' ? [g.coordinates] : g.coordinates).forEach(function (poly) {
        poly[0].forEach(function (pt) {
          south = Math.min(south, pt[1]);
          north = Math.max(north, pt[1]);
        });
      });
    });
    // Region keys are grid codes: names repeat across communities.
    echarts.registerMap('wangge-report', geojson);
    chart = echarts.init(mapEl, null, {renderer: 'canvas'});
    window.wanggeReportMap = chart;
    chart.setOption({
      animation: false,
      geo: {
        map: 'wangge-report',
        nameProperty: 'code',
        roam: true,
        scaleLimit: {min: 1, max: 40},
        // Degrees of longitude are shorter than of latitude away from the equator.
        aspectScale: Math.cos((south + north) / 2 * Math.PI / 180),
        layoutCenter: ['50%', '50%'],
        layoutSize: '96%',
        label: {
          show: features.length <= 40, fontSize: 11, color: '#4a5b6d',
          formatter: function (p) { return names[p.name] || ''; }
        },
        itemStyle: {areaColor: '#eaf2fc', borderColor: '#5f9ae0', borderWidth: 1},
        emphasis: {disabled: true},
        select: {disabled: true},
        tooltip: {show: false}
      },
      series: [{
        type: 'scatter', coordinateSystem: 'geo', silent: true, z: 10,
        symbol: 'pin', symbolSize: 30, symbolOffset: [0, '-45%'],
        itemStyle: {color: '#c8161d'}, data: []
      }]
    });
    // A tap anywhere on the map, inside a grid or not: a drag (pan) is no tap.
    chart.getZr().on('click', function (e) {
      var p = chart.convertFromPixel({geoIndex: 0}, [e.offsetX, e.offsetY]);
      if (p && isFinite(p[0]) && isFinite(p[1])) {
        setPoint(p[0], p[1]);
      }
    });
    window.addEventListener('resize', function () { chart.resize(); });
    mapEl.dataset.ready = '1';
    showPoint();
  }

  fetch(form.dataset.gridsUrl, {headers: {Accept: 'application/json'}, credentials: 'same-origin'})
    .then(function (r) {
      if (!r.ok) {
        throw new Error(String(r.status));
      }
      return r.json();
    })
    .then(drawMap)
    .catch(function () {
      unavailable(T.map_failed);
      showPoint();
    });

  // ---- category suggestions ----------------------------------------------------

  var description = fields.description;
  var select = fields.category;
  var preselect = form.dataset.preselect === '1';
  var chosen = select.value !== '';  // a choice of the user's own is never overridden
  var suggested = document.createElement('optgroup');
  suggested.label = T.suggested;
  var seq = 0;
  var lastText = null;
  var timer = null;

  select.addEventListener('change', function () {
    chosen = select.value !== '';
  });

  function showGuesses(guesses) {
    var keep = select.value;
    while (suggested.firstChild) {
      suggested.removeChild(suggested.firstChild);
    }
    guesses.forEach(function (g) {
      suggested.appendChild(new Option(
        fill(T.guess, {name: g.name, pct: Math.round(g.confidence * 100)}), g.code));
    });
    if (guesses.length && !suggested.parentNode) {
      select.insertBefore(suggested, select.options[0].nextSibling);
    } else if (!guesses.length && suggested.parentNode) {
      select.removeChild(suggested);
    }
    // The first option with a value is the suggested one, so it is the one shown.
    select.value = chosen || !preselect || !guesses.length ? keep : guesses[0].code;
    form.dataset.suggested = guesses.map(function (g) { return g.code; }).join(',');
  }

  function suggest() {
    var text = description.value.trim();
    if (text === lastText) {
      return;
    }
    lastText = text;
    var mine = ++seq;
    if (text.length < 2) {
      showGuesses([]);
      return;
    }
    fetch(form.dataset.classifyUrl, {
      method: 'POST',
      body: new URLSearchParams({text: text}),
      headers: {Accept: 'application/json', 'X-CSRFToken': fields.csrfmiddlewaretoken.value},
      credentials: 'same-origin'
    })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (guesses) {
        if (mine === seq) {
          showGuesses(guesses);
        }
      })
      .catch(function () { /* suggestions are a help; the form works without */ });
  }

  description.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 350);
  });
  if (description.value.trim()) {
    suggest();
  }

  // ---- photos --------------------------------------------------------------------

  var photos = fields.photos;
  var photoNote = document.getElementById('photo-count');
  photos.addEventListener('change', function () {
    var again = document.getElementById('photos-again');
    if (again) {
      again.hidden = true;
    }
    var max = Number(form.dataset.maxPhotos);
    var mb = Number(form.dataset.maxPhotoMb);
    var files = Array.prototype.slice.call(photos.files);
    var problem = files.length > max ? fill(T.too_many_photos, {max: max}) : '';
    files.forEach(function (f) {
      if (!problem && f.size > mb * 1048576) {
        problem = fill(T.photo_too_big, {name: f.name, mb: mb});
      }
    });
    if (problem) {
      photos.value = '';
    }
    photoNote.className = problem ? 'field-error' : 'field-note';
    photoNote.textContent = problem || (files.length ? fill(T.photo_count, {n: files.length}) : '');
  });

  // ---- one submission at a time ------------------------------------------------

  var submit = document.getElementById('report-submit');
  var label = submit.textContent;
  form.addEventListener('submit', function () {
    submit.disabled = true;
    submit.textContent = submit.dataset.busyLabel;
  });
  // Coming back from the next page (bfcache) must not leave the button dead.
  window.addEventListener('pageshow', function () {
    submit.disabled = false;
    submit.textContent = label;
  });

  showPoint();
}());
