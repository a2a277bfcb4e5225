/*
 * Case pages: the small map of a case's grid with its point (case detail),
 * the routing tool's map where a click picks the point to test, and the
 * evaluation ranking chart.
 *
 * Each part starts only when its element is on the page. Prose comes from the
 * page (data-* attributes or json_script), already translated.
 *
 * For tests: a map element gets data-ready="1" once drawn (data-ready="error"
 * if its areas could not be loaded); window.wanggeCaseMap and
 * window.wanggeRouteMap are the ECharts instances.
 */
(function () {
  'use strict';

  if (typeof window.echarts === 'undefined') {
    return;
  }
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", ' +
    '"WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif';

  function getJson(url) {
    return fetch(url, {headers: {Accept: 'application/json'}, credentials: 'same-origin'})
      .then(function (r) {
        if (!r.ok) {
          throw new Error('HTTP ' + r.status);
        }
        return r.json();
      });
  }

  function failed(el) {
    el.dataset.ready = 'error';
    el.textContent = el.dataset.error || '';
    el.classList.add('map-failed');
  }

  function resizing(el, chart) {
    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(function () { chart.resize(); }).observe(el);
    } else {
      window.addEventListener('resize', function () { chart.resize(); });
    }
  }

  // A geo component of the given grids, with the point on top.
  function geoOption(mapName, names, highlight, point, pointLabel) {
    return {
      textStyle: {fontFamily: FONT},
      tooltip: {
        trigger: 'item',
        formatter: function (p) {
          if (p.seriesType === 'scatter') {
            return pointLabel + '<br>' + p.value[0].toFixed(6) + ', ' + p.value[1].toFixed(6);
          }
          return names[p.name] || p.name;
        }
      },
      geo: {
        map: mapName,
        nameProperty: 'code',
        roam: true,
        layoutCenter: ['50%', '50%'],
        layoutSize: '94%',
        label: {
          show: true, fontSize: 12, color: '#10233f', textBorderColor: '#fff', textBorderWidth: 2,
          formatter: function (p) { return names[p.name] || p.name; }
        },
        itemStyle: {areaColor: '#e3eefb', borderColor: '#5f9ae0', borderWidth: 1},
        emphasis: {itemStyle: {areaColor: '#ffd27a'}, label: {color: '#10233f'}},
        regions: highlight ? [{name: highlight, itemStyle: {areaColor: '#a9c9f0', borderColor: '#0b3c8c', borderWidth: 2}}] : []
      },
      series: [{
        type: 'scatter',
        coordinateSystem: 'geo',
        symbolSize: 16,
        itemStyle: {color: '#c8161d', borderColor: '#fff', borderWidth: 2},
        data: point ? [point] : [],
        z: 5
      }]
    };
  }

  function namesOf(fc) {
    var names = {};
    fc.features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
    return names;
  }

  // ---- case detail: the grid and the reported point ---------------------------

  function caseMap(el) {
    var lon = parseFloat(el.dataset.lon);
    var lat = parseFloat(el.dataset.lat);
    var point = isFinite(lon) && isFinite(lat) ? [lon, lat] : null;
    getJson(el.dataset.source).then(function (fc) {
      if (!fc || !fc.features || !fc.features.length) {
        failed(el);
        return;
      }
      var chart = window.echarts.init(el);
      window.wanggeCaseMap = chart;
      window.echarts.registerMap('wangge-case', fc);
      chart.setOption(geoOption('wangge-case', namesOf(fc), el.dataset.grid || null, point,
                                el.dataset.pointLabel || ''));
      resizing(el, chart);
      el.dataset.ready = '1';
    }).catch(function () { failed(el); });
  }

  // ---- routing tool: a click picks the point ----------------------------------

  function routeMap(el) {
    var form = document.getElementById('route-form');
    var lonInput = document.getElementById('route-lon');
    var latInput = document.getElementById('route-lat');
    var chart = null;

    function current() {
      var lon = parseFloat(lonInput.value);
      var lat = parseFloat(latInput.value);
      return isFinite(lon) && isFinite(lat) ? [lon, lat] : null;
    }

    function showPoint() {
      if (chart) {
        chart.setOption({series: [{data: current() ? [current()] : []}]});
      }
    }

    function submit() {
      if (typeof form.requestSubmit === 'function') {
        form.requestSubmit();
      } else {
        form.submit();
      }
    }

    form.addEventListener('submit', showPoint);
    lonInput.addEventListener('change', showPoint);
    latInput.addEventListener('change', showPoint);

    getJson(el.dataset.source).then(function (fc) {
      if (!fc || !fc.features || !fc.features.length) {
        failed(el);
        return;
      }
      chart = window.echarts.init(el);
      window.wanggeRouteMap = chart;
      window.echarts.registerMap('wangge-route', fc);
      chart.setOption(geoOption('wangge-route', namesOf(fc), null, current(),
                                el.dataset.pointLabel || ''));
      chart.getZr().on('click', function (e) {
        var at = chart.convertFromPixel({geoIndex: 0}, [e.offsetX, e.offsetY]);
        if (!at || !isFinite(at[0]) || !isFinite(at[1])) {
          return;
        }
        lonInput.value = at[0].toFixed(6);
        latInput.value = at[1].toFixed(6);
        showPoint();
        if (document.getElementById('route-category').value) {
          submit();
        }
      });
      resizing(el, chart);
      el.dataset.ready = '1';
    }).catch(function () { failed(el); });
  }

  // ---- evaluation: score ranking and on-time rate -----------------------------

  function evaluationChart(el, data) {
    if (!data.names.length) {
      el.hidden = true;
      return;
    }
    var chart = window.echarts.init(el);
    chart.setOption({
      textStyle: {fontFamily: FONT},
      tooltip: {trigger: 'axis'},
      legend: {top: 0},
      grid: {left: 48, right: 48, top: 40, bottom: 70},
      xAxis: {type: 'category', data: data.names, axisLabel: {rotate: data.names.length > 6 ? 30 : 0}},
      yAxis: [
        {type: 'value', name: data.labels.score, min: 0},
        {type: 'value', name: data.labels.on_time, min: 0, max: 100, axisLabel: {formatter: '{value}%'}}
      ],
      series: [
        {name: data.labels.score, type: 'bar', data: data.score, itemStyle: {color: '#1f6fd6'},
         label: {show: true, position: 'top', formatter: function (p) {
           return p.value === null ? '' : Number(p.value).toFixed(1);
         }}},
        {name: data.labels.on_time, type: 'line', yAxisIndex: 1, data: data.on_time,
         itemStyle: {color: '#1e8e3e'}, connectNulls: false}
      ]
    });
    resizing(el, chart);
    el.dataset.ready = '1';
  }

  var detail = document.getElementById('case-map');
  if (detail) {
    caseMap(detail);
  }
  var route = document.getElementById('route-map');
  if (route) {
    routeMap(route);
  }
  var ranking = document.getElementById('evaluation-chart');
  var rankingData = document.getElementById('evaluation-data');
  if (ranking && rankingData) {
    evaluationChart(ranking, JSON.parse(rankingData.textContent));
  }
}());
