(function () {
  'use strict';
  // campaign.html#selftest: measure the page into a pre#selftest element for the
  // browser tests (see reports::browser): sections drawn, links present,
  // every seed chip reaching its row, and any script errors.
  if (location.hash !== '#selftest') return;
  function selftest() {
    var r = { sizes: {}, reports: [], chips: 0, chipsOk: true, errors: window.__errors || [] };
    document.querySelectorAll('section').forEach(function (s) {
      var b = s.getBoundingClientRect();
      r.sizes[s.id] = [Math.round(b.width), Math.round(b.height)];
    });
    document.querySelectorAll('a.report').forEach(function (a) { r.reports.push(a.getAttribute('href')); });
    document.querySelectorAll('a.chip').forEach(function (a) {
      r.chips++;
      window.scrollTo(0, 0);
      var t = document.getElementById(a.getAttribute('href').slice(1));
      if (!t) { r.chipsOk = false; return; }
      t.scrollIntoView();
      var b = t.getBoundingClientRect();
      if (!(b.bottom > 0 && b.top < window.innerHeight)) r.chipsOk = false;
    });
    var pre = document.createElement('pre');
    pre.id = 'selftest';
    pre.textContent = JSON.stringify(r);
    document.body.appendChild(pre);
  }
  if (document.readyState === 'complete') selftest();
  else window.addEventListener('load', selftest);
})();
