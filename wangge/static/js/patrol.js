/*
 * The grid worker's patrol page (workforce/mobile/patrol.html).
 *
 * Start asks the server for a patrol (POST /api/v1/workforce/patrols, with a
 * client id made here, so a start resent after a lost answer is the same
 * patrol), then watches the position. Every fix goes first into a queue in
 * localStorage, so a reload, a dead zone or a flat battery loses nothing; the
 * queue is sent every ~15 s or as soon as 20 fixes wait, and a fix leaves the
 * queue only after the server answered 200 for it. Browser geolocation is
 * WGS-84, so batches say crs "wgs84". Stop sends what waits, then tells the
 * server; without network it keeps trying (also after a reload).
 *
 * The API takes the session cookie, so every POST carries the CSRF token.
 *
 * For tests: #patrol carries data-status (idle, active, stopping, ended),
 * #patrol-pending data-pending, #patrol-sent data-accepted/-duplicates/
 * -rejected. Nothing here formats prose: the text comes translated from the
 * page (json_script "patrol-strings").
 */
(function () {
  'use strict';

  var root = document.getElementById('patrol');
  if (!root) {
    return;
  }
  var T = JSON.parse(document.getElementById('patrol-strings').textContent);
  var API = root.dataset.api; // /api/v1/workforce
  var KEY = 'wangge.patrol.' + root.dataset.user; // one queue per account on a shared phone
  var FLUSH_MS = 1000 * Number(root.dataset.flushSeconds || 15);
  var BATCH = 20; // send as soon as this many fixes wait
  var MAX_SEND = 500; // fixes per request (the server takes up to 2000)

  var $ = function (id) { return document.getElementById(id); };
  // {clientId, patrolId, startedAt, stopAt, queue: [fix], sent: {accepted, duplicates, rejected}}
  var state = load();
  var patrol = null; // the server's last answer about the patrol
  var rejected = []; // reasons of the last refused fixes
  var lastFix = null;
  var ended = false;
  var watchId = null;
  var timer = null;
  var sending = false;

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) {
      return values[k] !== undefined ? values[k] : m;
    });
  }

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(KEY)) || null;
    } catch (e) {
      return null;
    }
  }

  function save() {
    try {
      if (state) {
        window.localStorage.setItem(KEY, JSON.stringify(state));
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (e) {
      // Storage full or disabled: the fixes still wait in memory.
    }
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID(); // secure contexts only
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? '0' : '') + b.toString(16);
    }).join('');
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : root.dataset.csrf;
  }

  // The API answers errors as {code, message, fields}; the message is meant
  // for the user. A failed fetch (no network) has no status.
  function request(method, path, body) {
    return fetch(API + path, {
      method: method, credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf()},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        if (!r.ok) {
          var err = new Error(data && data.message ? data.message : fill(T.http_error, {status: r.status}));
          err.status = r.status;
          throw err;
        }
        return {status: r.status, data: data};
      });
    });
  }

  function showError(message) {
    var box = $('patrol-error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  function errorText(err) {
    return err && err.status ? err.message : T.offline;
  }

  // ---- talking to the server -------------------------------------------------

  function ensureStarted() {
    if (state.patrolId) {
      return Promise.resolve();
    }
    return request('POST', '/patrols', {client_id: state.clientId, at: state.startedAt}).then(function (r) {
      state.patrolId = r.data.id;
      patrol = r.data;
      save();
    });
  }

  function sendQueued() {
    var batch = state.queue.slice(0, MAX_SEND);
    if (!batch.length) {
      return Promise.resolve();
    }
    var path = '/patrols/' + state.patrolId + '/points';
    return request('POST', path, {crs: 'wgs84', points: batch}).then(function (r) {
      state.queue.splice(0, batch.length); // fixes taken meanwhile stay queued
      state.sent.accepted += r.data.accepted;
      state.sent.duplicates += r.data.duplicates;
      state.sent.rejected += r.data.rejected.length;
      rejected = r.data.rejected.map(function (x) { return x.reason; });
      patrol = r.data.patrol;
      save();
      return sendQueued();
    }, function (err) {
      if (err.status === 404) {
        // The patrol is gone: start again under the same client id.
        state.patrolId = null;
        save();
      } else if (err.status === 422) {
        // The batch itself is malformed and would fail forever: drop it.
        state.queue.splice(0, batch.length);
        state.sent.rejected += batch.length;
        save();
        err.message = fill(T.dropped, {message: err.message});
      }
      throw err;
    });
  }

  function sendStop() {
    if (!state.stopAt) {
      return Promise.resolve();
    }
    var path = '/patrols/' + state.patrolId + '/stop';
    return request('POST', path, {at: state.stopAt}).then(function (r) {
      patrol = r.data;
      state = null;
      ended = true;
      save();
      stopTimer();
    });
  }

  // Send what waits (starting the patrol first if the start never arrived),
  // and end the patrol if the worker asked to. Safe to call at any time.
  function flush() {
    if (!state || sending) {
      return;
    }
    sending = true;
    render();
    ensureStarted()
      .then(sendQueued)
      .then(sendStop)
      .then(function () { showError(''); }, function (err) { showError(errorText(err)); })
      .then(function () {
        sending = false;
        render();
      });
  }

  function startTimer() {
    if (timer === null) {
      timer = window.setInterval(flush, FLUSH_MS);
    }
  }

  function stopTimer() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  // ---- the position ------------------------------------------------------------

  function onFix(pos) {
    if (!state || state.stopAt) {
      return;
    }
    var c = pos.coords;
    lastFix = {at: new Date(pos.timestamp || Date.now()), accuracy: c.accuracy};
    state.queue.push({at: lastFix.at.toISOString(), lon: c.longitude, lat: c.latitude,
                      accuracy: typeof c.accuracy === 'number' ? c.accuracy : null});
    save();
    showError('');
    render();
    if (state.queue.length >= BATCH) {
      flush();
    }
  }

  function onGeoError(err) {
    showError(err.code === 1 ? T.geo_denied : err.code === 3 ? T.geo_timeout : T.geo_unavailable);
    if (err.code === 1) {
      unwatch();
    }
  }

  function watch() {
    if (watchId !== null) {
      return;
    }
    if (!navigator.geolocation) {
      showError(T.geo_unsupported);
      return;
    }
    watchId = navigator.geolocation.watchPosition(onFix, onGeoError,
      {enableHighAccuracy: true, maximumAge: 0, timeout: 60000});
  }

  function unwatch() {
    if (watchId !== null) {
      navigator.geolocation.clearWatch(watchId);
      watchId = null;
    }
  }

  // ---- buttons -----------------------------------------------------------------

  function start() {
    if (!navigator.geolocation) {
      showError(T.geo_unsupported);
      return;
    }
    state = {clientId: uuid(), patrolId: null, startedAt: new Date().toISOString(), stopAt: null,
             queue: [], sent: {accepted: 0, duplicates: 0, rejected: 0}};
    patrol = null;
    rejected = [];
    ended = false;
    save();
    watch();
    startTimer();
    flush();
  }

  function stop() {
    if (!state) {
      return;
    }
    state.stopAt = new Date().toISOString();
    save();
    unwatch();
    startTimer();
    flush();
  }

  // ---- drawing -----------------------------------------------------------------

  function hhmm(iso) {
    var d = new Date(iso);
    return (d.getHours() < 10 ? '0' : '') + d.getHours() + ':' + (d.getMinutes() < 10 ? '0' : '') + d.getMinutes();
  }

  function status() {
    if (state) {
      return state.stopAt ? 'stopping' : 'active';
    }
    return ended ? 'ended' : 'idle';
  }

  function render() {
    var s = status();
    root.dataset.status = s;
    var text = T.idle;
    if (s === 'active') {
      var minutes = Math.max(0, Math.round((Date.now() - new Date(state.startedAt).getTime()) / 60000));
      text = fill(T.active, {start: hhmm(state.startedAt), minutes: minutes});
    } else if (s === 'stopping') {
      text = T.stopping;
    } else if (s === 'ended') {
      text = T.ended;
    }
    $('patrol-status').textContent = text;
    $('patrol-start').hidden = s === 'active' || s === 'stopping';
    $('patrol-stop').hidden = s !== 'active';
    $('patrol-flush').hidden = !state || sending;

    var pending = state ? state.queue.length : 0;
    var sent = state ? state.sent : null;
    var pendingEl = $('patrol-pending');
    pendingEl.textContent = fill(T.pending, {n: pending});
    pendingEl.dataset.pending = String(pending);
    var sentEl = $('patrol-sent');
    if (sent) {
      sentEl.textContent = fill(T.sent, sent);
      sentEl.dataset.accepted = String(sent.accepted);
      sentEl.dataset.duplicates = String(sent.duplicates);
      sentEl.dataset.rejected = String(sent.rejected);
    }
    $('patrol-fix').textContent = lastFix
      ? fill(T.fix, {time: lastFix.at.toLocaleTimeString('zh-CN', {hour12: false}),
                     m: Math.round(lastFix.accuracy)})
      : (s === 'active' ? T.waiting_fix : '');
    var list = $('patrol-rejected');
    list.textContent = '';
    rejected.slice(0, 3).forEach(function (reason) {
      var li = document.createElement('li');
      li.textContent = reason;
      list.appendChild(li);
    });
    renderPatrol();
  }

  // What the server says about the patrol. Distance, time inside the grid and
  // flags are measured when it ends (services.stop_patrol).
  function renderPatrol() {
    $('patrol-figures').hidden = !patrol;
    if (!patrol) {
      return;
    }
    $('patrol-points').textContent = fill(T.points, {n: patrol.points});
    $('patrol-distance').textContent = fill(T.distance, {km: (patrol.distance_m / 1000).toFixed(2)});
    $('patrol-inside').textContent = fill(T.inside, {minutes: Math.round(patrol.inside_s / 60)});
    $('patrol-coverage').textContent = patrol.coverage === null ? '—'
      : fill(T.coverage, {pct: Math.round(patrol.coverage * 100)});
    $('patrol-flags').textContent = patrol.flags.length
      ? patrol.flags.map(function (f) { return f.text; }).join('；') : T.no_flags;
    var note = $('patrol-measuring');
    note.hidden = patrol.status !== 'active';
    note.textContent = T.measuring;
  }

  // ---- wiring ------------------------------------------------------------------

  $('patrol-start').addEventListener('click', start);
  $('patrol-stop').addEventListener('click', stop);
  $('patrol-flush').addEventListener('click', flush);
  window.addEventListener('online', flush);

  // Pick up where the page was left: a queue in this browser, or a patrol
  // the server knows is running (started before the storage was cleared).
  request('GET', '/patrols/active')
    .then(function (r) {
      if (r.status === 200 && r.data) {
        patrol = r.data;
        if (!state) {
          state = {clientId: '', patrolId: r.data.id, startedAt: r.data.started_at, stopAt: null,
                   queue: [], sent: {accepted: 0, duplicates: 0, rejected: 0}};
          save();
        }
      }
    }, function (err) { showError(errorText(err)); })
    .then(function () {
      if (state) {
        if (!state.stopAt) {
          watch();
        }
        startTimer();
        flush();
      }
      render();
    });
}());
