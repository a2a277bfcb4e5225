/*
 * Address search: /api/v1/addresses/match?q= (best standard address with a
 * confidence and candidates) and /api/v1/addresses/search?q= (a result list),
 * asked together. The answers are read defensively: a field may be missing,
 * and a list may come bare or as {items | results: [...]}.
 */
(function () {
  'use strict';

  var page = document.getElementById('address-page');
  var form = document.getElementById('address-form');
  if (!page || !form) {
    return;
  }
  var T = JSON.parse(document.getElementById('address-strings').textContent);
  var API = page.dataset.api;
  var input = document.getElementById('address-q');
  var errorBox = document.getElementById('address-error');
  var status = document.getElementById('address-status');
  var matchBox = document.getElementById('address-match');
  var resultsBox = document.getElementById('address-results');
  var seq = 0;

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

  function str(v) {
    return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
  }

  function api(path) {
    return fetch(path, {headers: {Accept: 'application/json'}, credentials: 'same-origin'})
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (body) {
          if (!r.ok) {
            var msg = body && typeof body.message === 'string' && body.message
              ? body.message
              : (r.status === 404 ? T.unavailable : fill(T.http_error, {status: r.status}));
            throw new Error(msg);
          }
          return body;
        });
      }, function () {
        throw new Error(T.network_error);
      });
  }

  function listOf(body) {
    if (Array.isArray(body)) {
      return body;
    }
    if (body && typeof body === 'object') {
      var keys = ['items', 'results', 'candidates', 'addresses'];
      for (var i = 0; i < keys.length; i++) {
        if (Array.isArray(body[keys[i]])) {
          return body[keys[i]];
        }
      }
    }
    return [];
  }

  function addressName(a) {
    return str(a.full_name) || str(a.name) || str(a.address) || str(a.text) || str(a.code);
  }

  function meta(a) {
    var dl = h('dl', {className: 'meta'});
    function add(label, value, cls) {
      if (value) {
        dl.appendChild(h('div', {}, [h('dt', {text: label}), h('dd', {className: cls || '', text: value})]));
      }
    }
    add(T.code, str(a.code), 'mono');
    add(T.level, T.levels[a.level] || str(a.level));
    add(T.grid, str(a.grid_name) || str(a.grid_code), str(a.grid_name) ? '' : 'mono');
    return dl;
  }

  function confidenceOf(value) {
    if (typeof value !== 'number' || !isFinite(value)) {
      return null;
    }
    var pct = value <= 1 ? value * 100 : value;
    return Math.max(0, Math.min(100, pct));
  }

  function renderMatch(body) {
    matchBox.textContent = '';
    if (!body || typeof body !== 'object') {
      matchBox.hidden = true;
      return;
    }
    var match = body.match && typeof body.match === 'object' ? body.match : null;
    matchBox.className = 'card match-card' + (match ? '' : ' none');
    matchBox.appendChild(h('h2', {text: T.match}));
    if (match) {
      matchBox.appendChild(h('p', {className: 'full-name', text: addressName(match)}));
      matchBox.appendChild(meta(match));
    } else {
      matchBox.appendChild(h('p', {className: 'muted', text: T.no_match}));
    }
    var pct = confidenceOf(body.confidence);
    if (pct !== null) {
      var bar = h('span', {className: 'bar'});
      bar.style.width = pct + '%';
      matchBox.appendChild(h('p', {className: 'confidence'}, [
        T.confidence + '：' + pct.toFixed(0) + '%', h('span', {className: 'track'}, [bar])
      ]));
    }
    var candidates = Array.isArray(body.candidates) ? body.candidates : [];
    if (candidates.length) {
      matchBox.appendChild(h('h3', {text: T.candidates}));
      matchBox.appendChild(resultList(candidates));
    }
    matchBox.hidden = false;
  }

  function resultList(items) {
    var ol = h('ol', {className: 'result-list'});
    items.forEach(function (a) {
      if (!a || typeof a !== 'object') {
        return;
      }
      var pct = confidenceOf(a.score !== undefined ? a.score : a.confidence);
      ol.appendChild(h('li', {}, [
        h('div', {className: 'name', text: addressName(a) +
          (pct !== null ? '（' + pct.toFixed(0) + '%）' : '')}),
        meta(a)
      ]));
    });
    return ol;
  }

  function renderResults(body) {
    resultsBox.textContent = '';
    var items = listOf(body);
    resultsBox.appendChild(h('h2', {text: T.results}));
    resultsBox.appendChild(items.length ? resultList(items)
      : h('p', {className: 'muted', text: T.no_results}));
    resultsBox.hidden = false;
  }

  function run(q) {
    var mine = ++seq;
    errorBox.hidden = true;
    matchBox.hidden = true;
    resultsBox.hidden = true;
    status.textContent = T.searching;
    var qs = '?q=' + encodeURIComponent(q);
    var errors = [];
    function settle(p, onOk) {
      return p.then(function (body) {
        if (mine === seq) {
          onOk(body);
        }
      }, function (err) {
        errors.push(err.message);
      });
    }
    Promise.all([
      settle(api(API + '/match' + qs), renderMatch),
      settle(api(API + '/search' + qs), renderResults)
    ]).then(function () {
      if (mine !== seq) {
        return;
      }
      status.textContent = '';
      if (errors.length) {
        // Both endpoints usually fail alike; show each distinct message once.
        errorBox.textContent = errors.filter(function (m, i) {
          return errors.indexOf(m) === i;
        }).join('；');
        errorBox.hidden = false;
      }
    });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var q = input.value.trim();
    if (!q) {
      return;
    }
    var url = new URL(window.location.href);
    url.searchParams.set('q', q);
    window.history.replaceState(null, '', url.href);
    run(q);
  });

  if (input.value.trim()) {
    run(input.value.trim());
  }
}());
