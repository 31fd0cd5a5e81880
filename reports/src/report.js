(function () {
  'use strict';
  var tl = document.getElementById('tl');
  var sc = document.getElementById('tl-scroll');
  var zoom = 1;
  var base = null;
  var W = tl ? +tl.dataset.w : 1;
  var END = tl ? Math.max(1, +tl.dataset.end) : 1;
  // Zoom until one millisecond is about 40 px wide.
  var MAX = Math.min(5000, Math.max(1, END / 1e6 * 40 / W));

  function capture() {
    base = [];
    tl.querySelectorAll('rect, line, text').forEach(function (el) {
      if (el.closest('#tl-axis')) return;
      var b = { el: el };
      if (el.tagName === 'line') {
        b.x1 = +el.getAttribute('x1');
        b.x2 = +el.getAttribute('x2');
      } else {
        b.x = +el.getAttribute('x');
        if (el.tagName === 'rect') b.w = +el.getAttribute('width');
        if (el.dataset.s) { b.s = +el.dataset.s; b.need = +el.dataset.w; }
      }
      base.push(b);
    });
  }

  function nice(raw) {
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var ms = [1, 2, 5, 10];
    for (var i = 0; i < ms.length; i++) if (ms[i] * mag >= raw) return ms[i] * mag;
    return 10 * mag;
  }

  function axis() {
    var g = document.getElementById('tl-axis');
    var top = +g.dataset.top, bottom = +g.dataset.bottom, ly = +g.dataset.ly;
    var step = Math.max(1, nice(END / zoom / 12));
    var digits = Math.min(6, Math.max(0, -Math.floor(Math.log10(step / 1e9))));
    var parts = [];
    for (var t = 0; t <= END; t += step) {
      var x = (t / END * W * zoom).toFixed(2);
      parts.push('<line class="grid" x1="' + x + '" x2="' + x + '" y1="' + top + '" y2="' + bottom + '"/>' +
        '<text class="tick" x="' + x + '" y="' + ly + '" text-anchor="' + (t ? 'middle' : 'start') + '">' + (t / 1e9).toFixed(digits) + 's</text>');
    }
    g.innerHTML = parts.join('');
  }

  // Zooms to k, keeping simulated time t at pixel px of the visible area.
  function setZoom(k, t, px) {
    if (!tl) return;
    k = Math.max(1, Math.min(MAX, k));
    if (!base) capture();
    zoom = k;
    var w = W * k + 20, h = tl.getAttribute('height');
    tl.setAttribute('width', w);
    tl.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    base.forEach(function (b) {
      var el = b.el;
      if (b.x1 !== undefined) {
        el.setAttribute('x1', b.x1 * k);
        el.setAttribute('x2', b.x2 * k);
        return;
      }
      if (b.s !== undefined) return; // labels: placeLabels, below

      el.setAttribute('x', b.x * k);
      if (b.w !== undefined) el.setAttribute('width', b.w * k);
    });
    axis();
    sc.scrollLeft = t / END * W * k - px;
    placeLabels();
    var label = document.getElementById('tl-zoom');
    if (label) label.textContent = 'zoom ' + (k < 10 ? k.toFixed(1) : Math.round(k)) + '×';
  }

  // A bar's label stays in view while any of its bar is: it sits at the
  // bar's start, or at the visible area's left edge when the start has
  // scrolled out, and never past the bar's end. Hidden where the bar is too
  // narrow for it.
  function placeLabels() {
    if (!base) return;
    var left = sc.scrollLeft;
    base.forEach(function (b) {
      if (b.s === undefined) return;
      var start = (b.x - 3) * zoom, end = start + b.s * zoom;
      var x = Math.min(Math.max(start, left), end - b.need) + 3;
      b.el.setAttribute('x', x.toFixed(2));
      b.el.classList.toggle('hid', b.s * zoom < b.need);
    });
  }
  var placing = false;
  if (sc) {
    sc.addEventListener('scroll', function () {
      if (placing || !base) return;
      placing = true;
      requestAnimationFrame(function () { placing = false; placeLabels(); });
    });
  }

  function centre() {
    var px = sc.clientWidth / 2;
    return [(sc.scrollLeft + px) / (W * zoom) * END, px];
  }

  function zoomTo(a, b) {
    var span = Math.max(b - a, 1);
    var k = sc.clientWidth / (span * 1.6 / END * W);
    setZoom(k, a - span * 0.3, 0);
  }

  if (tl) {
    document.querySelectorAll('[data-zoom]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        var c = centre(), z = btn.dataset.zoom;
        if (z === 'fit') setZoom(1, 0, 0);
        else setZoom(zoom * (z === 'in' ? 2 : 0.5), c[0], c[1]);
      });
    });
    sc.addEventListener('wheel', function (e) {
      if (!e.ctrlKey) return;
      e.preventDefault();
      var px = e.clientX - sc.getBoundingClientRect().left;
      var t = (sc.scrollLeft + px) / (W * zoom) * END;
      setZoom(zoom * (e.deltaY < 0 ? 1.25 : 0.8), t, px);
    }, { passive: false });
  }

  // Jump links: zoom the timeline to the window first if they carry one.
  document.querySelectorAll('a.jump').forEach(function (a) {
    a.addEventListener('click', function (e) {
      var target = document.getElementById(a.getAttribute('href').slice(1));
      if (!target) return;
      e.preventDefault();
      if (a.dataset.a !== undefined && tl) zoomTo(+a.dataset.a, +a.dataset.b);
      target.scrollIntoView({ block: 'center', inline: 'nearest' });
      target.classList.add('flash');
      setTimeout(function () { target.classList.remove('flash'); }, 3000);
    });
  });

  // Linearizability diagram: hovering an operation outlines the partial
  // linearization up to it and says the model state before and after it.
  var cxHover = document.getElementById('cx-hover');
  function showCxOp(el) {
    var n = +el.dataset.n, d = el.dataset;
    // Left out of the prefix: the checker's partial linearization that
    // includes it (Porcupine's), when it found one, is outlined instead.
    var partial = d.partial ? d.partial.split(' ') : null;
    document.querySelectorAll('#cx-diagram .cx-op').forEach(function (o) {
      var k = +o.dataset.n;
      var lin = partial ? partial.indexOf(o.dataset.id) >= 0 :
        o === el || (k > 0 && k < n) || (k === n && o.classList.contains('cx-prefix'));
      o.classList.toggle('cx-lin', lin);
    });
    // "op N" is the operation's number (its invocation's index in
    // history.jsonl); "1.–n." are places in the linearization.
    var text, op = 'op ' + d.id + ' ' + d.op;
    var part = '';
    if (partial) {
      part = '. Its longest partial linearization: ' + partial.length + ' operations (outlined), op ' + partial.join(', op ');
    } else if (d.partial !== undefined) {
      part = '. No partial linearization the search found includes it';
    }
    if (el.classList.contains('cx-stuck')) {
      text = op + ' cannot follow places 1.–' + (n - 1) + '. (state ' + d.before + '): ' + d.why + part;
    } else if (n > 0) {
      text = n + '. ' + op + (d.before !== undefined ? ': state ' + d.before + ' → ' + d.after : '') +
        '; places 1.–' + n + '. linearize (outlined)';
    } else {
      text = op + ': not reached; the linearization stops before it' + part;
    }
    cxHover.textContent = text;
  }
  if (cxHover) {
    document.querySelectorAll('#cx-diagram .cx-op').forEach(function (el) {
      el.addEventListener('mouseenter', function () { showCxOp(el); });
    });
  }

  // The key filter: one key's operations on the timeline and its series in
  // the plots (the per-key series of the quantile and rate plots replace
  // the all-keys ones; the scatter's are its own).
  var kf = document.getElementById('key-filter');
  function filterKey(k) {
    document.querySelectorAll('#tl rect.op').forEach(function (el) {
      el.classList.toggle('kh', k !== '' && el.dataset.k !== k);
    });
    if (document.querySelector('.kser:not([data-key="*"])')) {
      document.querySelectorAll('.kser').forEach(function (g) {
        g.classList.toggle('hid', k === '' ? g.dataset.key !== '*' : g.dataset.key !== k);
      });
    }
    document.querySelectorAll('path.pt[data-key]').forEach(function (p) {
      p.classList.toggle('hid', k !== '' && p.dataset.key !== '*' && p.dataset.key !== k);
    });
  }
  if (kf) kf.addEventListener('change', function () { filterKey(kf.value); });

  function selftest() {
    var nav = performance.getEntriesByType('navigation')[0];
    var r = { sizes: {}, ops: 0, counterexample: false, jump: null, loadMs: nav ? Math.round(nav.loadEventEnd || nav.loadEventStart) : null };
    document.querySelectorAll('#tl, svg.plot').forEach(function (el) {
      var b = el.getBoundingClientRect();
      r.sizes[el.id] = [Math.round(b.width), Math.round(b.height)];
    });
    r.ops = document.querySelectorAll('#tl rect.op').length;
    var cx = document.getElementById('counterexample');
    if (cx) {
      var cb = cx.getBoundingClientRect();
      r.counterexample = cb.width > 0 && cb.height > 0;
    }
    // Hover the first stuck operation, then the last prefix one, of the diagram.
    var stuckOp = document.querySelector('#cx-diagram .cx-stuck');
    var prefixOps = document.querySelectorAll('#cx-diagram .cx-prefix');
    if (stuckOp && prefixOps.length) {
      var lastOp = prefixOps[0];
      prefixOps.forEach(function (o) { if (+o.dataset.n > +lastOp.dataset.n) lastOp = o; });
      stuckOp.dispatchEvent(new Event('mouseenter'));
      r.cxHover = { stuck: cxHover.textContent, stuckOutlined: document.querySelectorAll('#cx-diagram .cx-lin').length };
      lastOp.dispatchEvent(new Event('mouseenter'));
      r.cxHover.prefix = cxHover.textContent;
      r.cxHover.prefixOutlined = document.querySelectorAll('#cx-diagram .cx-lin').length;
      r.cxHover.prefixShown = prefixOps.length;
      r.cxHover.withStates = document.querySelectorAll('#cx-diagram .cx-prefix[data-before]').length;
    }
    // Pick the first key: only its operations and series stay drawn.
    if (kf && kf.options.length > 1) {
      kf.value = kf.options[1].value;
      kf.dispatchEvent(new Event('change'));
      // Drawn: laid out with a size (bars), or not inside anything hidden (a
      // path of single points may have an empty box).
      var drawn = function (sel) {
        return Array.prototype.filter.call(document.querySelectorAll(sel), function (el) {
          if (el.tagName === 'rect') return el.getBoundingClientRect().height > 0;
          return !el.closest('.hid, .kh') && getComputedStyle(el).display !== 'none';
        });
      };
      var visible = drawn('#tl rect.op');
      r.keyFilter = {
        key: kf.value,
        visible: visible.length,
        ofKey: document.querySelectorAll('#tl rect.op[data-k="' + kf.value + '"]').length,
        otherVisible: visible.filter(function (el) { return el.dataset.k !== kf.value; }).length,
        series: drawn('.kser path.series').map(function (p) { return p.closest('.kser').dataset.key; }),
        points: drawn('path.pt[data-key]').map(function (p) { return p.dataset.key; })
      };
      kf.value = '';
      kf.dispatchEvent(new Event('change'));
      r.keyFilter.after = drawn('#tl rect.op').length;
    }
    // Zoom in and back: the timeline must widen and its bars move.
    if (tl) {
      var w0 = tl.getBoundingClientRect().width;
      var zin = document.querySelector('[data-zoom="in"]');
      var fit = document.querySelector('[data-zoom="fit"]');
      zin.click();
      var w1 = tl.getBoundingClientRect().width;
      // Zoomed in, scrolled into the middle of a long labelled bar whose
      // start is out of view: its label stays in view, inside the bar.
      zin.click(); zin.click();
      var sticky = null;
      base.forEach(function (b) {
        var span = b.s * zoom;
        if (sticky || b.s === undefined || span < sc.clientWidth + 2 * b.need) return;
        sc.scrollLeft = (b.x - 3) * zoom + (span - sc.clientWidth) / 2;
        placeLabels();
        var lb = b.el.getBoundingClientRect(), view = sc.getBoundingClientRect();
        sticky = {
          text: b.el.textContent,
          shown: !b.el.classList.contains('hid'),
          inView: lb.left >= view.left - 1 && lb.right <= view.right + 1
        };
      });
      r.stickyLabel = sticky;
      fit.click();
      r.zoom = { before: Math.round(w0), zoomed: Math.round(w1), after: Math.round(tl.getBoundingClientRect().width) };
    }
    // Every other jump link brings its target into view.
    r.links = [];
    document.querySelectorAll('a.jump:not(#jump-first-error)').forEach(function (a) {
      window.scrollTo(0, 0);
      a.click();
      var t = document.getElementById(a.getAttribute('href').slice(1));
      var b = t ? t.getBoundingClientRect() : { top: -1, bottom: -1 };
      r.links.push({ href: a.getAttribute('href'), inView: !!t && b.bottom > 0 && b.top < window.innerHeight });
    });
    var done = function () {
      r.errors = window.__errors || [];
      var pre = document.createElement('pre');
      pre.id = 'selftest';
      pre.textContent = JSON.stringify(r);
      document.body.appendChild(pre);
    };
    var j = document.getElementById('jump-first-error');
    if (!j) return done();
    window.scrollTo(0, document.body.scrollHeight);
    j.click();
    setTimeout(function () {
      var t = document.getElementById(j.getAttribute('href').slice(1));
      var b = t.getBoundingClientRect();
      var s = sc ? sc.getBoundingClientRect() : b;
      r.jump = {
        target: t.id,
        zoom: zoom,
        rect: [Math.round(b.left), Math.round(b.top), Math.round(b.width), Math.round(b.height)],
        inView: b.bottom > 0 && b.top < window.innerHeight && b.right > 0 && b.left < window.innerWidth &&
          b.right > s.left && b.left < s.right
      };
      done();
    }, 200);
  }

  // report.html#first-error opens at the first error (for links from campaign pages).
  if (location.hash === '#first-error') {
    var jump = document.getElementById('jump-first-error');
    if (jump) window.addEventListener('load', function () { jump.click(); });
  }

  if (location.hash === '#selftest') {
    if (document.readyState === 'complete') selftest();
    else window.addEventListener('load', selftest);
  }
})();
