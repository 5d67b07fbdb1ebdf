// Live updates of the workspace's pages, from the server-sent events of /api/events.
// The events carry ids and counts only; what a page shows is fetched again from the
// page itself (rendered, escaped and redacted by the server for this user) and the
// parts that changed are put in place, so a form being filled in is left alone.
(function () {
  'use strict';
  var body = document.body;
  var view = body.getAttribute('data-view') || 'dashboard';
  var findingId = body.getAttribute('data-finding');
  var live = document.getElementById('live');
  var events = 0;
  function say(text) {
    if (live) { live.textContent = text; }
  }
  // What each page swaps when the store changes: elements found by id in the new copy.
  var parts = {
    dashboard: ['overview', 'finding-count', 'findings'],
    findings: ['findings', 'findings-count'],
    finding: ['finding-evidence', 'triage-state', 'history'],
    overview: ['overview-body'],
    'allow-list': ['allow-list']
  }[view] || [];
  var pending = null;
  var inFlight = false;
  function refresh() {
    if (pending) { return; }
    // Several events in a burst (an engine run, a triage of three fields) cost one fetch.
    pending = setTimeout(function () {
      pending = null;
      if (inFlight) { refresh(); return; }
      inFlight = true;
      // Marked as a refresh, so that it does not count as a visit (the overview's "new
      // since your last visit" reads visits from the access log).
      var url = location.pathname + location.search + (location.search ? '&' : '?') + 'refresh=live';
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
        .then(function (r) {
          if (!r.ok) { throw new Error('HTTP ' + r.status); }
          return r.text();
        })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, 'text/html');
          parts.forEach(function (id) {
            var now = document.getElementById(id);
            var fresh = next.getElementById(id);
            if (now && fresh) { now.replaceWith(document.importNode(fresh, true)); }
          });
          var filter = document.getElementById('finding-filter');
          if (filter && filter.value) { filter.dispatchEvent(new Event('input')); }
          body.setAttribute('data-live-updates', String(Number(body.getAttribute('data-live-updates') || 0) + 1));
        })
        .catch(function (e) { say('live, but the page could not be refreshed (' + e.message + ')'); })
        .then(function () { inFlight = false; });
    }, 250);
  }
  if (!window.EventSource) { say('no live updates in this browser'); return; }
  var source = new EventSource('/api/events');
  source.addEventListener('open', function () { say('live'); });
  source.addEventListener('error', function () { say('reconnecting…'); });
  source.addEventListener('hello', function () { say('live'); });
  function stamp(what) {
    events += 1;
    body.setAttribute('data-live-events', String(events));
    say('live · ' + what + ' at ' + new Date().toLocaleTimeString());
  }
  source.addEventListener('findings', function (e) {
    var d = JSON.parse(e.data);
    stamp(d.written + ' findings written (' + d.total + ' in the store)');
    refresh();
  });
  source.addEventListener('triage', function (e) {
    var d = JSON.parse(e.data);
    stamp(d.actor + ' changed the ' + d.field + ' of a finding');
    if (view === 'finding' && d.finding_id !== findingId) { return; }
    if (view === 'findings' || view === 'finding' || view === 'overview') { refresh(); }
  });
  source.addEventListener('resync', function () { stamp('catching up'); refresh(); });
  source.addEventListener('gone', function () { say('the store is gone: live updates stopped'); source.close(); });
})();
