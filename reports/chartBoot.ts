/**
 * The browser script that draws a page's charts with vega-embed: each chart's
 * spec and data sit in JSON script tags (`spec-<id>`, `data-<id>`) listed by
 * `chart-list`. When every chart has drawn or failed, `data-charts-rendered`
 * on <body> holds how many drew (the browser suites wait for it). Shared by
 * the report (reports/html.ts) and the viewer (harness/view/pages.ts).
 */
export const CHART_BOOT_SCRIPT = `(function(){
  var el = document.getElementById("chart-list"); if (!el) { document.body.setAttribute("data-charts-rendered", "0"); return; }
  var charts = JSON.parse(el.textContent), done = 0, failed = 0;
  function finish(){ if (done + failed === charts.length) document.body.setAttribute("data-charts-rendered", String(done)); }
  charts.forEach(function(id){
    var spec = JSON.parse(document.getElementById("spec-" + id).textContent);
    spec.data = { values: JSON.parse(document.getElementById("data-" + id).textContent) };
    vegaEmbed("#chart-" + id, spec, { renderer: "svg", actions: false }).then(function(){ done++; finish(); }, function(err){
      failed++; console.error("chart " + id + " failed: " + err);
      document.getElementById("chart-" + id).innerHTML = '<p class="chart-error">chart failed: ' + String(err).replace(/</g, "&lt;") + "</p>";
      finish();
    });
  });
  if (charts.length === 0) finish();
})();`;
