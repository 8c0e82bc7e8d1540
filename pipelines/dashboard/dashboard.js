// The dashboard page: one card per camera, fed by the server's
// Server-Sent Events (see server.py): "hello" (the cameras, their last
// minutes), "result" (an mnv3jsonsink record), "stats" (an mnv3-stats
// message), "ended".
"use strict";

const WINDOW_MS = 5 * 60 * 1000;  // what the charts show
const SAMPLE_MS = 250;            // at most one chart point per camera this often
const TOP_SHOWN = 5;

// Distinct colours (Tableau 10), given to a chart's classes as they first
// appear there: a class keeps its colour in its chart.
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

function percent(x) {
  return `${(100 * x).toFixed(1)}%`;
}

// A chart of one value per class over time; one dataset per class that
// appears in the window, dropped once its points have all left it.
class ClassChart {
  constructor(canvas, stacked) {
    this.stacked = stacked;
    this.sets = new Map();
    this.colours = new Map();
    this.chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [] },
      options: {
        animation: false, parsing: false, normalized: true, maintainAspectRatio: false,
        spanGaps: false,
        elements: { point: { radius: stacked ? 0 : 1.5 }, line: { borderWidth: 2 } },
        scales: {
          x: { type: "linear", ticks: { callback: clock, maxTicksLimit: 8 } },
          y: { min: 0, max: 1, stacked, ticks: { callback: percent } },
        },
        plugins: { legend: { position: "right", labels: { boxWidth: 12 } },
                   tooltip: { enabled: false } },
      },
    });
  }

  colour(label) {
    if (!this.colours.has(label)) {
      this.colours.set(label, PALETTE[this.colours.size % PALETTE.length]);
    }
    return this.colours.get(label);
  }

  // values: [{label_id, label, value}] at time t; classes missing from it
  // get a gap (lines) or zero (stacked areas, which need every point).
  add(t, values) {
    const seen = new Set();
    for (const v of values) {
      let set = this.sets.get(v.label_id);
      if (!set) {
        set = { label: v.label, data: [], borderColor: this.colour(v.label),
                backgroundColor: this.colour(v.label), fill: this.stacked };
        this.sets.set(v.label_id, set);
        this.chart.data.datasets.push(set);
      }
      set.data.push({ x: t, y: v.value });
      seen.add(v.label_id);
    }
    for (const [id, set] of this.sets) {
      if (!seen.has(id)) set.data.push({ x: t, y: this.stacked ? 0 : null });
    }
  }

  redraw(now) {
    const start = now - WINDOW_MS;
    for (const [id, set] of this.sets) {
      while (set.data.length && set.data[0].x < start) set.data.shift();
      if (!set.data.some((p) => p.y)) {
        this.sets.delete(id);
        this.chart.data.datasets.splice(this.chart.data.datasets.indexOf(set), 1);
      }
    }
    this.chart.options.scales.x.min = start;
    this.chart.options.scales.x.max = now;
    this.chart.update("none");
  }
}

class CameraCard {
  constructor(index, info) {
    const node = document.getElementById("camera").content.firstElementChild.cloneNode(true);
    node.id = `cam${index}`;
    node.querySelector(".name").textContent = info.name;
    node.querySelector(".video").src = `/video/${index}.mjpeg`;
    this.top = node.querySelector(".top");
    this.frame = node.querySelector(".frame");
    this.statsBody = node.querySelector(".stats tbody");
    this.statsRows = new Map();
    this.timeline = new ClassChart(node.querySelector(".timeline"), false);
    if (info.segmentation) {
      node.querySelector(".segmentation").hidden = false;
      this.fractions = new ClassChart(node.querySelector(".fractions"), true);
    }
    this.lastSample = -Infinity;
    document.getElementById("cameras").append(node);
    for (const event of info.history) this.sample(event);
    if (info.last) this.result(info.last);
    for (const [element, stats] of Object.entries(info.stats)) this.stats(element, stats);
  }

  // Every record updates the top classes; the charts take one per SAMPLE_MS.
  result(event) {
    const r = event.record;
    const classes = (r.classification || []).slice(0, TOP_SHOWN);
    this.top.replaceChildren(...classes.map((c) => {
      const li = document.createElement("li");
      li.innerHTML = '<span class="label"></span><span class="bar"><i></i></span><span class="conf"></span>';
      li.querySelector(".label").textContent = c.label;
      li.querySelector(".bar i").style.width = percent(c.confidence);
      li.querySelector(".conf").textContent = percent(c.confidence);
      return li;
    }));
    this.top.classList.toggle("stale", r.stale);
    const pts = r.pts === null ? "" : `, ${(r.pts / 1e9).toFixed(1)} s`;
    this.frame.textContent = `frame ${r.frame}${pts}${r.stale ? " (stale)" : ""}`;
    if (event.t - this.lastSample >= SAMPLE_MS) this.sample(event);
  }

  sample(event) {
    const r = event.record;
    this.lastSample = event.t;
    // The best class only: one line, coloured by the class in first place.
    this.timeline.add(event.t, (r.classification || []).slice(0, 1).map(
      (c) => ({ label_id: c.label_id, label: c.label, value: c.confidence })));
    if (this.fractions && r.segmentation) {
      this.fractions.add(event.t, r.segmentation.map(
        (c) => ({ label_id: c.label_id, label: c.label, value: c.fraction })));
    }
  }

  stats(element, s) {
    let row = this.statsRows.get(element);
    if (!row) {
      row = document.createElement("tr");
      this.statsRows.set(element, row);
      this.statsBody.append(row);
    }
    const cells = [element, s.fps.toFixed(1), s["average-fps"].toFixed(1),
      `${s["mean-inference-ms"].toFixed(1)} / ${s["max-inference-ms"].toFixed(1)}`,
      `${s["frames-inferred"]} / ${s["frames-skipped"]}`];
    row.replaceChildren(...cells.map((text) => {
      const td = document.createElement("td");
      td.textContent = text;
      return td;
    }));
  }

  redraw(now) {
    this.timeline.redraw(now);
    if (this.fractions) this.fractions.redraw(now);
  }
}

let cards = [];
// The server's clock minus ours: the charts' window follows the records'
// times even when the browser's clock is off.
let skew = 0;
const connection = document.getElementById("connection");
const events = new EventSource("/events");
events.addEventListener("hello", (e) => {
  // A reconnection (server restarted) starts from the new server's state.
  document.getElementById("cameras").replaceChildren();
  cards = JSON.parse(e.data).cameras.map((info, i) => new CameraCard(i, info));
  connection.textContent = "live";
});
events.addEventListener("result", (e) => {
  const event = JSON.parse(e.data);
  skew = event.t - Date.now();
  cards[event.camera].result(event);
});
events.addEventListener("stats", (e) => {
  const event = JSON.parse(e.data);
  cards[event.camera].stats(event.element, event.stats);
});
events.addEventListener("ended", (e) => {
  cards[JSON.parse(e.data).camera].frame.textContent = "ended";
});
events.onerror = () => { connection.textContent = "disconnected, retrying…"; };
setInterval(() => cards.forEach((c) => c.redraw(Date.now() + skew)), 1000);
