/*
 * The command-centre map (一张图).
 *
 * Draws the children of one area from /api/v1/areas/geojson?parent=CODE with
 * ECharts, coloured by the chosen indicator. Clicking an area drills down
 * (district → street → community → grid); an area without children (a grid)
 * is selected instead, and the side panel shows its figures.
 *
 * Region keys are area codes (nameProperty: 'code'); labels show the names.
 *
 * For tests and later pages, after each render the map container carries
 * data-current-code (the area whose children are drawn, '' for the root view),
 * data-selected-code and data-drawn-count; window.wanggeMap is the ECharts
 * instance and window.wanggeDrill(code) goes to an area.
 *
 * Grid workers (the "网格员实时位置" toggle, or ?live=1): their positions of
 * the last five minutes from /api/v1/workforce/live, polled every 30 s and
 * drawn as points (green: patrolling); clicking one, or ?worker=ID&day=DATE,
 * draws that worker's day track from /api/v1/workforce/workers/ID/track as
 * lines, with the day's figures in the side panel. The map series draws in
 * its own coordinate system, which other series cannot use, so the points and
 * lines sit on an invisible `geo` component laid out exactly like it and
 * moved with it (see the georoam handler). The map container then carries
 * data-live-count (workers drawn; absent while the layer is off) and
 * data-track-worker.
 *
 * Nothing here formats prose: the text comes translated from the page
 * (json_script "map-strings").
 */
(function () {
  'use strict';

  var page = document.getElementById('map-page');
  var el = document.getElementById('map');
  if (!page || !el || typeof window.echarts === 'undefined') {
    return;
  }
  var T = JSON.parse(document.getElementById('map-strings').textContent);
  var API = page.dataset.api; // ends without a slash: /api/v1/areas
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", ' +
    '"WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif';

  function num(v) {
    return typeof v === 'number' && isFinite(v) ? v : null;
  }

  /*
   * The indicators a user can colour the map by. Each takes a GeoJSON feature
   * and returns a number or null (unknown). Add an entry here to offer a new
   * indicator; the select, legend, tooltips and child list follow. The colour
   * scale starts at zero unless an indicator says `zeroBased: false` (for one
   * that can be negative or where only the spread matters, such as a change).
   */
  var INDICATORS = [
    {
      key: 'households', label: T.households, unit: T.unit_households, digits: 0,
      value: function (f) { return num(f.properties.households); }
    },
    {
      key: 'density', label: T.density, unit: T.unit_density, digits: 1,
      value: function (f) {
        var p = f.properties;
        var km2 = num(p.area_m2) ? p.area_m2 / 1e6 : null;
        return km2 && num(p.households) !== null ? p.households / km2 : null;
      }
    },
    {
      key: 'completeness', label: T.completeness, unit: '%', digits: 1,
      value: function (f) {
        var v = num(f.properties.completeness);
        return v === null ? null : v * 100;
      }
    },
    // Cases (wangge/cases selectors.cases_by_area): open and overdue cases in
    // each area, at every level. Labels come from the page's data attributes.
    {
      key: 'cases_open', label: page.dataset.casesOpen || 'cases_open',
      unit: page.dataset.casesUnit || '', digits: 0,
      value: function (f) { return num(f.properties.cases_open); }
    },
    {
      key: 'cases_overdue', label: page.dataset.casesOverdue || 'cases_overdue',
      unit: page.dataset.casesUnit || '', digits: 0, ramp: 'alert',
      value: function (f) { return num(f.properties.cases_overdue); }
    }
  ];

  // Blue ramp: light for low values, deep for high (command-centre convention).
  var RAMP = ['#e3eefb', '#a9c9f0', '#5f9ae0', '#2a66c2', '#0b3c8c'];
  // For counts that call for action (overdue cases): white to red.
  var RAMPS = {alert: ['#fdf0f0', '#f6b9b9', '#ea7a7a', '#d23c3c', '#9e1111']};

  var chart = echarts.init(el, null, {renderer: 'canvas'});
  window.wanggeMap = chart;
  window.wanggeIndicators = INDICATORS;

  var state = {
    top: [],          // features of the topmost visible areas
    code: null,       // area whose children are drawn; null = the root view
    detail: null,     // /api/v1/areas/{code} of that area (or a synthetic root)
    features: [],     // what is drawn
    selected: null,   // detail of a selected leaf area, or null
    indicator: INDICATORS[0],
    seq: 0            // drops responses that arrive after a newer request
  };

  // ---- helpers -----------------------------------------------------------

  function fmt(value, digits) {
    if (value === null || value === undefined) {
      return '—';
    }
    return Number(value).toLocaleString('zh-CN', {
      minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0
    });
  }

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) {
      return values[k] !== undefined ? values[k] : m;
    });
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') {
        node.textContent = attrs[k];
      } else if (k === 'className') {
        node.className = attrs[k];
      } else if (k.slice(0, 2) === 'on') {
        node.addEventListener(k.slice(2), attrs[k]);
      } else if (attrs[k] !== null && attrs[k] !== undefined) {
        node.setAttribute(k, attrs[k]);
      }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) {
        node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
      }
    });
    return node;
  }

  function levelName(level) {
    return (level && T.levels[level]) || level || '';
  }

  function ApiError(message, status) {
    this.message = message;
    this.status = status;
  }

  // The API answers errors as {code, message, fields}; the message is Chinese
  // and meant for the user, so it is shown as it is.
  function api(path) {
    return fetch(path, {headers: {Accept: 'application/json'}, credentials: 'same-origin'})
      .catch(function () {
        throw new ApiError(T.network_error, 0);
      })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (body) {
          if (!r.ok) {
            var msg = body && typeof body.message === 'string' && body.message
              ? body.message : fill(T.http_error, {status: r.status});
            throw new ApiError(msg, r.status);
          }
          return body;
        });
      });
  }

  function areaUrl(code) {
    return API + '/' + encodeURIComponent(code);
  }

  function childrenUrl(code) {
    return API + '/geojson' + (code ? '?parent=' + encodeURIComponent(code) : '');
  }

  function showError(message) {
    var box = document.getElementById('map-error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  function setBusy(busy) {
    el.setAttribute('aria-busy', busy ? 'true' : 'false');
    document.getElementById('map-loading').hidden = !busy;
  }

  function valueOf(feature) {
    return state.indicator.value(feature);
  }

  function featureByCode(code) {
    for (var i = 0; i < state.features.length; i++) {
      if (state.features[i].properties.code === code) {
        return state.features[i];
      }
    }
    return null;
  }

  function sortedFeatures() {
    return state.features.slice().sort(function (a, b) {
      var va = valueOf(a);
      var vb = valueOf(b);
      if (va === vb) {
        return a.properties.code < b.properties.code ? -1 : 1;
      }
      if (va === null) { return 1; }
      if (vb === null) { return -1; }
      return vb - va;
    });
  }

  // ---- navigation --------------------------------------------------------

  function syncUrl(code, push) {
    var url = new URL(window.location.href);
    if (code) {
      url.searchParams.set('area', code);
    } else {
      url.searchParams.delete('area');
    }
    if (url.href === window.location.href) {
      return;
    }
    window.history[push ? 'pushState' : 'replaceState']({area: code || null}, '', url.href);
  }

  function rootDetail() {
    var households = 0;
    var area = 0;
    state.top.forEach(function (f) {
      households += num(f.properties.households) || 0;
      area += num(f.properties.area_m2) || 0;
    });
    return {code: '', name: T.all_areas, level: null, households: households,
            area_m2: area || null, child_count: state.top.length, path: []};
  }

  function showRoot(push) {
    state.seq++;
    setBusy(false);
    state.code = null;
    state.detail = rootDetail();
    state.features = state.top;
    state.selected = null;
    showError('');
    render();
    syncUrl(null, push);
  }

  /*
   * Go to an area: draw its children, or, if it has none, draw its parent's
   * children with it selected. `push` adds a browser history entry.
   */
  function go(code, push) {
    if (!code) {
      if (state.top.length === 1) {
        return go(state.top[0].properties.code, push);
      }
      showRoot(push);
      return Promise.resolve();
    }
    var seq = ++state.seq;
    setBusy(true);
    return Promise.all([api(areaUrl(code)), api(childrenUrl(code))])
      .then(function (answers) {
        if (seq !== state.seq) {
          return null;
        }
        var detail = answers[0];
        var features = (answers[1] && answers[1].features) || [];
        if (features.length) {
          state.code = code;
          state.detail = detail;
          state.features = features;
          state.selected = null;
          showError('');
          render();
          syncUrl(code, push);
          return null;
        }
        // A leaf: show it among its siblings.
        if (detail.parent_code && detail.parent_code !== state.code) {
          return go(detail.parent_code, false).then(function () {
            if (state.code === detail.parent_code) {
              select(detail, push);
            }
          });
        }
        select(detail, push);
        return null;
      })
      .catch(function (err) {
        if (seq !== state.seq) {
          return null;
        }
        var message = err && err.message ? err.message : T.network_error;
        var isTop = state.top.some(function (f) { return f.properties.code === code; });
        if (!state.detail && !isTop) {
          // Nothing drawn yet (a bad ?area= link): show the start view, and why.
          return go(null, false).then(function () { showError(message); });
        }
        showError(message);
        return null;
      })
      .then(function () {
        if (seq === state.seq) {
          setBusy(false);
        }
      });
  }

  function select(detail, push) {
    state.selected = detail;
    showError('');
    render();
    syncUrl(detail.code, push);
  }

  function onAreaChosen(code) {
    var feature = featureByCode(code);
    if (!feature) {
      return;
    }
    // Grids are the bottom of the base layer: select without asking for children.
    if (feature.properties.level === 'grid') {
      var seq = ++state.seq;
      setBusy(true);
      api(areaUrl(code))
        .then(function (detail) {
          if (seq === state.seq) {
            select(detail, true);
          }
        })
        .catch(function (err) {
          if (seq === state.seq) {
            showError(err.message);
          }
        })
        .then(function () {
          if (seq === state.seq) {
            setBusy(false);
          }
        });
      return;
    }
    go(code, true);
  }

  // ---- drawing -----------------------------------------------------------

  function mapName() {
    return 'wangge-' + (state.code || 'root');
  }

  function render() {
    var ind = state.indicator;
    var names = {};
    var values = [];
    var selectedCode = state.selected ? state.selected.code : null;
    var data = state.features.map(function (f) {
      var p = f.properties;
      var v = valueOf(f);
      names[p.code] = p.name;
      if (v !== null) {
        values.push(v);
      }
      return {name: p.code, value: v === null ? NaN : v, selected: p.code === selectedCode};
    });
    var min = values.length ? Math.min.apply(null, values) : 0;
    var max = values.length ? Math.max.apply(null, values) : 1;
    if (ind.zeroBased !== false) {
      min = Math.min(0, min);
    }
    if (max <= min) {
      max = min + 1;
    }
    // Light text with a dark halo on the deep end of the ramp, and the reverse.
    data.forEach(function (d) {
      var dark = !isNaN(d.value) && (d.value - min) / (max - min) > 0.55;
      d.label = dark
        ? {color: '#ffffff', textBorderColor: 'rgba(6, 26, 58, 0.75)'}
        : {color: '#10233f', textBorderColor: 'rgba(255, 255, 255, 0.9)'};
    });

    echarts.registerMap(mapName(), {type: 'FeatureCollection', features: state.features});
    chart.setOption({
      textStyle: {fontFamily: FONT},
      tooltip: {
        trigger: 'item',
        formatter: function (p) {
          if (p.seriesId === LIVE_SERIES) {
            return liveTooltip(p.data.worker);
          }
          var v = typeof p.value === 'number' && !isNaN(p.value) ? p.value : null;
          return '<strong>' + escapeHtml(names[p.name] || p.name) + '</strong><br>' +
            escapeHtml(ind.label) + '：' + fmt(v, ind.digits) + ' ' + escapeHtml(ind.unit);
        }
      },
      visualMap: {
        type: 'continuous',
        min: min,
        max: max,
        left: 16,
        bottom: 16,
        calculable: true,
        precision: ind.digits,
        text: [ind.label + '（' + ind.unit + '）', ''],
        textStyle: {color: '#34495e', fontFamily: FONT},
        inRange: {color: RAMPS[ind.ramp] || RAMP},
        outOfRange: {color: '#d7dde5'},
        seriesIndex: 0 // the areas only, not the workers drawn over them
      },
      geo: overlayGeo(),
      series: [{
        type: 'map',
        map: mapName(),
        nameProperty: 'code',
        roam: true,
        selectedMode: 'single',
        layoutCenter: ['50%', '50%'],
        layoutSize: '92%',
        data: data,
        label: {
          show: true,
          fontSize: 14,
          fontWeight: 600,
          textBorderWidth: 3,
          formatter: function (p) {
            return names[p.name] || p.name;
          }
        },
        itemStyle: {borderColor: '#ffffff', borderWidth: 1.5, areaColor: '#d7dde5'},
        emphasis: {
          label: {color: '#10233f', textBorderColor: 'rgba(255, 255, 255, 0.9)'},
          itemStyle: {areaColor: '#ffd27a', borderColor: '#e08a00', borderWidth: 2}
        },
        select: {
          label: {color: '#5c0b0b', textBorderColor: 'rgba(255, 255, 255, 0.9)'},
          itemStyle: {areaColor: '#ffb347', borderColor: '#c0392b', borderWidth: 2.5}
        }
      }].concat(overlaySeries())
    }, {notMerge: true});

    el.dataset.currentCode = state.code || '';
    el.dataset.selectedCode = selectedCode || '';
    el.dataset.drawnCount = String(state.features.length);
    el.setAttribute('aria-label', fill(T.map_aria, {name: state.detail ? state.detail.name : ''}));
    renderBreadcrumb();
    renderPanel();
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  function crumb(label, code, current) {
    var inner = current
      ? h('span', {'aria-current': 'page', text: label})
      : h('a', {href: '?area=' + encodeURIComponent(code || ''), 'data-code': code || '',
                text: label, onclick: function (e) {
                  e.preventDefault();
                  go(code, true);
                }});
    return h('li', {}, [inner]);
  }

  function renderBreadcrumb() {
    var ol = document.getElementById('map-breadcrumb');
    ol.textContent = '';
    var multi = state.top.length > 1;
    if (multi) {
      ol.appendChild(crumb(T.all_areas, '', state.code === null && !state.selected));
    }
    if (state.code && state.detail) {
      (state.detail.path || []).forEach(function (a) {
        ol.appendChild(crumb(a.name, a.code, false));
      });
      ol.appendChild(crumb(state.detail.name, state.detail.code, !state.selected));
    }
    if (state.selected) {
      ol.appendChild(crumb(state.selected.name, state.selected.code, true));
    }
  }

  function figure(label, value, key) {
    return [h('dt', {text: label}), h('dd', {'data-figure': key, text: value})];
  }

  // Open and overdue cases of the shown area, when the map knows them: from
  // its feature among those drawn, or for the area whose children are drawn,
  // the sum of its children.
  function caseFigures(shown) {
    var props = null;
    var f = shown.code ? featureByCode(shown.code) : null;
    if (f) {
      props = f.properties;
    } else if (state.features.length && num(state.features[0].properties.cases_open) !== null) {
      props = {cases_open: 0, cases_overdue: 0};
      state.features.forEach(function (g) {
        props.cases_open += num(g.properties.cases_open) || 0;
        props.cases_overdue += num(g.properties.cases_overdue) || 0;
      });
    }
    if (!props || num(props.cases_open) === null) {
      return [];
    }
    var unit = page.dataset.casesUnit || '';
    return [].concat(
      figure(page.dataset.casesOpen, fmt(num(props.cases_open)) + ' ' + unit, 'cases_open'),
      figure(page.dataset.casesOverdue, fmt(num(props.cases_overdue)) + ' ' + unit, 'cases_overdue')
    );
  }

  function renderPanel() {
    var ind = state.indicator;
    var shown = state.selected || state.detail;
    var summary = document.getElementById('map-summary');
    summary.textContent = '';
    if (!shown) {
      return;
    }
    var km2 = num(shown.area_m2) !== null ? shown.area_m2 / 1e6 : null;
    var title = h('div', {className: 'panel-title'}, [
      h('h2', {id: 'panel-name', text: shown.name}),
      shown.level ? h('span', {className: 'badge level-' + shown.level,
                               text: levelName(shown.level)}) : null,
      state.selected ? h('span', {className: 'badge selected', text: T.selected}) : null
    ]);
    var dl = h('dl', {className: 'figures'});
    [].concat(
      shown.code ? figure(T.code, shown.code, 'code') : [],
      shown.level ? figure(T.level, levelName(shown.level), 'level') : [],
      figure(T.households, fmt(num(shown.households)) + ' ' + T.unit_households, 'households'),
      figure(T.area, fmt(km2, 2) + ' ' + T.unit_km2, 'area'),
      figure(T.child_count, fmt(num(shown.child_count)) + ' ' + T.unit_children, 'child_count'),
      caseFigures(shown)
    ).forEach(function (n) { dl.appendChild(n); });
    summary.appendChild(title);
    summary.appendChild(dl);
    if (state.selected && state.detail) {
      summary.appendChild(h('button', {
        type: 'button', className: 'link back',
        text: '← ' + fill(T.back_to, {name: state.detail.name}),
        onclick: function () { go(state.code, true); }
      }));
    }

    var box = document.getElementById('map-children');
    box.textContent = '';
    box.appendChild(h('h3', {}, [
      (state.detail ? state.detail.name + ' · ' : '') + T.children,
      h('small', {text: fill(T.sorted_by, {indicator: ind.label})})
    ]));
    if (!state.features.length) {
      box.appendChild(h('p', {className: 'muted', text: T.no_children}));
      return;
    }
    var values = state.features.map(valueOf).filter(function (v) { return v !== null; });
    var top = values.length ? Math.max.apply(null, values) : 0;
    var list = h('ol', {className: 'child-list', id: 'map-child-list'});
    sortedFeatures().forEach(function (f) {
      var p = f.properties;
      var v = valueOf(f);
      var isSel = state.selected && state.selected.code === p.code;
      var bar = h('span', {className: 'bar'});
      bar.style.width = (top > 0 && v !== null ? Math.max(2, 100 * v / top) : 0) + '%';
      list.appendChild(h('li', {className: isSel ? 'is-selected' : ''}, [
        h('button', {type: 'button', 'data-code': p.code,
                     onclick: function () { onAreaChosen(p.code); }}, [
          h('span', {className: 'name', text: p.name}),
          h('span', {className: 'value', text: fmt(v, ind.digits) + ' ' + ind.unit}),
          h('span', {className: 'track'}, [bar])
        ])
      ]));
    });
    box.appendChild(list);
  }

  // ---- grid workers: live positions and a day's track -----------------------

  var WF = page.dataset.workforceApi; // /api/v1/workforce
  var LIVE_SERIES = 'wf-live';
  var TRACK_SERIES = 'wf-track';
  var LIVE_MS = 30000;
  var workers = {
    live: null,    // positions while the layer is on, else null
    timer: null,
    liveSeq: 0,
    track: null,   // the GeoJSON of the shown day track, or null
    trackSeq: 0
  };

  function today() {
    var d = new Date();
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString('zh-CN', {hour12: false});
  }

  // Laid out like the map series (same map, centre and size) and moved with
  // it, so a longitude/latitude lands on the same pixel in both.
  function overlayGeo() {
    return {
      map: mapName(), layoutCenter: ['50%', '50%'], layoutSize: '92%', roam: false, silent: true,
      label: {show: false}, itemStyle: {areaColor: 'rgba(0, 0, 0, 0)', borderWidth: 0},
      emphasis: {disabled: true}, select: {disabled: true}, tooltip: {show: false}
    };
  }

  function overlaySeries() {
    var lines = workers.track ? workers.track.features.filter(function (f) {
      return f.geometry && f.geometry.coordinates.length > 1;
    }) : [];
    return [{
      id: TRACK_SERIES, type: 'lines', coordinateSystem: 'geo', geoIndex: 0, polyline: true,
      silent: true, z: 5,
      lineStyle: {color: '#c8161d', width: 3, opacity: 0.85},
      data: lines.map(function (f) { return {coords: f.geometry.coordinates}; })
    }, {
      id: LIVE_SERIES, type: 'scatter', coordinateSystem: 'geo', geoIndex: 0, z: 6, symbolSize: 14,
      itemStyle: {borderColor: '#ffffff', borderWidth: 2},
      label: {show: true, position: 'right', formatter: '{b}', fontSize: 12, color: '#10233f',
              textBorderColor: 'rgba(255, 255, 255, 0.9)', textBorderWidth: 3},
      data: (workers.live || []).map(function (p) {
        return {name: p.name, value: [p.lon, p.lat], worker: p,
                itemStyle: {color: p.patrolling ? '#1e8e3e' : '#7b8a9a'}};
      })
    }];
  }

  function drawOverlay() {
    if (state.detail) { // before the first render there is nothing to draw on
      chart.setOption({series: overlaySeries()}); // merged by id
    }
  }

  function liveTooltip(p) {
    return '<strong>' + escapeHtml(p.name) + '</strong><br>' +
      escapeHtml(T.grid) + '：' + escapeHtml(p.grid_code || '—') + '<br>' +
      escapeHtml(T.fix_time) + '：' + escapeHtml(clock(p.at)) + '<br>' +
      escapeHtml(p.patrolling ? T.patrolling : T.idle);
  }

  function pollLive() {
    var seq = ++workers.liveSeq;
    api(WF + '/live')
      .then(function (positions) {
        if (seq !== workers.liveSeq || workers.live === null) {
          return;
        }
        workers.live = positions || [];
        var patrolling = workers.live.filter(function (p) { return p.patrolling; }).length;
        el.dataset.liveCount = String(workers.live.length);
        document.getElementById('map-live-status').textContent =
          fill(T.live_count, {n: workers.live.length, patrolling: patrolling, time: clock(new Date())});
        drawOverlay();
      })
      .catch(function (err) {
        if (seq === workers.liveSeq) {
          document.getElementById('map-live-status').textContent = err.message;
        }
      });
  }

  function setLive(on) {
    window.clearInterval(workers.timer);
    workers.timer = null;
    workers.liveSeq++;
    if (on) {
      workers.live = workers.live || [];
      pollLive();
      workers.timer = window.setInterval(pollLive, LIVE_MS);
    } else {
      workers.live = null;
      delete el.dataset.liveCount;
      document.getElementById('map-live-status').textContent = '';
      drawOverlay();
    }
  }

  function syncWorkerUrl(id, day) {
    var url = new URL(window.location.href);
    if (id) {
      url.searchParams.set('worker', id);
      url.searchParams.set('day', day);
    } else {
      url.searchParams.delete('worker');
      url.searchParams.delete('day');
    }
    if (url.href !== window.location.href) {
      window.history.replaceState(window.history.state, '', url.href);
    }
  }

  function showTrack(id, day, remember) {
    var seq = ++workers.trackSeq;
    var box = document.getElementById('map-worker');
    box.hidden = false;
    box.textContent = '';
    box.appendChild(h('p', {className: 'muted', text: T.loading}));
    return api(WF + '/workers/' + encodeURIComponent(id) + '/track?day=' + encodeURIComponent(day))
      .then(function (fc) {
        if (seq !== workers.trackSeq) {
          return;
        }
        workers.track = fc;
        el.dataset.trackWorker = String(fc.worker.id);
        drawOverlay();
        renderTrackPanel(fc);
        if (remember) {
          syncWorkerUrl(fc.worker.id, fc.day);
        }
      })
      .catch(function (err) {
        if (seq === workers.trackSeq) {
          box.textContent = '';
          box.appendChild(h('p', {className: 'alert error', role: 'alert', text: err.message}));
        }
      });
  }

  function clearTrack() {
    workers.trackSeq++;
    workers.track = null;
    delete el.dataset.trackWorker;
    var box = document.getElementById('map-worker');
    box.textContent = '';
    box.hidden = true;
    drawOverlay();
    syncWorkerUrl(null);
  }

  function renderTrackPanel(fc) {
    var box = document.getElementById('map-worker');
    var s = fc.summary;
    var points = fc.features.reduce(function (n, f) { return n + (f.properties.points || 0); }, 0);
    box.textContent = '';
    box.appendChild(h('div', {className: 'panel-title'}, [
      h('h2', {id: 'track-name', text: fc.worker.name}),
      h('span', {className: 'badge', text: fill(T.track_of, {day: fc.day})})
    ]));
    var dl = h('dl', {className: 'figures', id: 'track-figures'});
    [].concat(
      figure(T.track_points, fmt(s ? s.points : points) + ' ' + T.unit_points, 'track_points'),
      s ? [].concat(
        figure(T.distance, fmt(s.distance_m / 1000, 2) + ' ' + T.unit_km, 'distance'),
        figure(T.inside, fmt(s.inside_s / 60) + ' ' + T.unit_minutes, 'inside'),
        figure(T.compliant, s.compliant ? T.yes : T.no, 'compliant'),
        figure(T.coverage, num(s.coverage) === null ? '—' : fmt(s.coverage * 100) + '%', 'coverage')
      ) : []
    ).forEach(function (n) { dl.appendChild(n); });
    box.appendChild(dl);
    if (!fc.features.length) {
      box.appendChild(h('p', {className: 'muted', text: T.no_track}));
    } else if (!s) {
      box.appendChild(h('p', {className: 'muted', text: T.no_summary}));
    }
    if (s) {
      box.appendChild(h('h3', {text: T.flags}));
      var flags = s.flags || [];
      box.appendChild(flags.length
        ? h('ul', {className: 'track-flags'}, flags.map(function (f) { return h('li', {text: f.text}); }))
        : h('p', {className: 'muted', text: T.no_flags}));
    }
    box.appendChild(h('button', {type: 'button', className: 'link back', text: T.clear_track,
                                 onclick: clearTrack}));
  }

  // ---- wiring ------------------------------------------------------------

  var picker = document.getElementById('map-indicator');
  INDICATORS.forEach(function (ind) {
    picker.appendChild(h('option', {value: ind.key, text: ind.label}));
  });
  picker.addEventListener('change', function () {
    state.indicator = INDICATORS.filter(function (i) {
      return i.key === picker.value;
    })[0] || INDICATORS[0];
    if (state.detail) {
      render();
    }
  });

  chart.on('click', function (params) {
    if (params.seriesId === LIVE_SERIES) {
      showTrack(params.data.worker.worker_id, today(), true);
      return;
    }
    if (params.componentType === 'series' && params.name) {
      onAreaChosen(params.name);
    }
  });

  // The overlay geo follows every pan and zoom of the map series: the same
  // action, applied to the geo (their layouts are identical).
  chart.on('georoam', function (e) {
    if (e.componentType !== 'series') {
      return;
    }
    var action = {type: 'geoRoam', componentType: 'geo', geoIndex: 0};
    ['dx', 'dy', 'zoom', 'originX', 'originY'].forEach(function (k) {
      if (e[k] !== undefined) {
        action[k] = e[k];
      }
    });
    chart.dispatchAction(action);
  });

  var liveToggle = document.getElementById('map-live');
  if (liveToggle) {
    liveToggle.addEventListener('change', function () { setLive(liveToggle.checked); });
  }

  if (typeof ResizeObserver !== 'undefined') {
    new ResizeObserver(function () { chart.resize(); }).observe(el);
  } else {
    window.addEventListener('resize', function () { chart.resize(); });
  }

  window.addEventListener('popstate', function (e) {
    var code = (e.state && e.state.area) || new URL(window.location.href).searchParams.get('area');
    go(code || null, false);
  });

  window.wanggeDrill = function (code) {
    return go(code, true);
  };

  // Start: the topmost areas the user can see; with one, draw its children.
  var startUrl = new URL(window.location.href);
  if (liveToggle && startUrl.searchParams.get('live') === '1') {
    liveToggle.checked = true;
    setLive(true);
  }
  if (startUrl.searchParams.get('worker')) {
    showTrack(startUrl.searchParams.get('worker'), startUrl.searchParams.get('day') || today(), false);
  }
  setBusy(true);
  api(childrenUrl(null))
    .then(function (fc) {
      state.top = (fc && fc.features) || [];
      if (!state.top.length) {
        setBusy(false);
        document.getElementById('map-summary').textContent = '';
        showError(T.no_areas);
        el.dataset.drawnCount = '0';
        return null;
      }
      var start = new URL(window.location.href).searchParams.get('area');
      return go(start || null, false);
    })
    .catch(function (err) {
      setBusy(false);
      showError(err.message);
    });
}());
