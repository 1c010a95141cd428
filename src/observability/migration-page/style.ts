/** The page's whole style sheet, inline (no asset to serve, nothing fetched). */
export const PAGE_STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;background:#f5f5f7}
header{background:#fff;border-bottom:1px solid #ddd;padding:12px 24px}
h1{font-size:20px;margin:0 0 6px}
h2{font-size:16px;margin:0 0 8px}
main{padding:12px 24px;max-width:1100px}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:0 0 12px}
.rules dt{margin-top:6px}.rules dd{margin:2px 0 0 16px}
.verdict{display:inline-block;border-radius:10px;padding:1px 9px;font-weight:600;font-size:13px}
.ready{background:#dff3e0;color:#1e5e24}
.still-calling{background:#fff1d6;color:#7a4b00}
.sending-service{background:#fde0e0;color:#8a1c1c}
.summary .verdict{margin-right:6px}
.warn{background:#fff1d6;padding:6px 10px;border-radius:4px}
.muted{color:#777}
small{font-weight:400;color:#555}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f0f2;padding:0 3px;border-radius:3px;word-break:break-all}
.columns{display:flex;flex-wrap:wrap;gap:24px}
table{border-collapse:collapse}
th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #eee;font-weight:400}
td{text-align:right;font-variant-numeric:tabular-nums}
thead th{font-weight:600;color:#555}
tr.v4 th{color:#2f6b2a}
.facts{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}
.facts dt{color:#555}.facts dd{margin:0}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 12px}
.share{display:inline-block;width:120px;height:10px;background:#59a14f;border-radius:2px;vertical-align:-1px;overflow:hidden}
.share-legacy{display:block;height:100%;background:#e15759}
figure{margin:10px 0 0}figcaption{color:#555;font-size:12px}
.chart{max-width:100%;height:auto;background:#fafafa}
`;
