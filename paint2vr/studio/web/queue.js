// The review queue of a batch output folder: scenes least sure first; open one to edit it.
const $ = (id) => document.getElementById(id);
let items = [];
// What a recorded confidence rests on (provenance depth_confidence.basis; docs/studio.md).
const BASIS = { estimator: "the depth estimator's own confidence", scale: "the learned model's scale fit",
                pixels: "the mean of the per-pixel confidence", file: 'a depth file', edits: "a designer's edits", none: 'nothing' };
const SHORT = { estimator: 'estimator', scale: 'scale fit', pixels: 'pixels', file: 'depth file', edits: 'edited', none: '' };

function sorted(key) {
  const copy = [...items];
  if (key === 'id') copy.sort((a, b) => a.id.localeCompare(b.id));
  else if (key === 'rerun') copy.sort((a, b) => (b.needs_rerun - a.needs_rerun) || a.id.localeCompare(b.id));
  else copy.sort((a, b) => ((a.confidence ?? -1) - (b.confidence ?? -1)) || a.id.localeCompare(b.id));
  return copy;
}
function render() {
  const box = $('items');
  box.replaceChildren();
  for (const it of sorted($('sort').value)) {
    const a = document.createElement('a');
    a.className = 'card'; a.href = `/edit?item=${encodeURIComponent(it.id)}`; a.dataset.id = it.id;
    const img = document.createElement('img');
    img.loading = 'lazy'; img.alt = it.id; img.src = `/api/thumb.png?item=${encodeURIComponent(it.id)}`;
    const title = document.createElement('div');
    title.textContent = it.id;
    const tags = document.createElement('div');
    const conf = document.createElement('span');
    conf.className = 'tag confidence';
    conf.dataset.confidence = it.confidence === null ? '' : String(it.confidence);
    conf.textContent = it.confidence === null ? 'confidence: not recorded' : `confidence ${it.confidence.toFixed(2)}`;
    conf.title = `depth confidence, from: ${BASIS[it.confidence_basis.split(':')[0]] || it.confidence_basis}`;
    if (it.confidence !== null) conf.textContent += ` · ${SHORT[it.confidence_basis.split(':')[0]] || it.confidence_basis}`;
    tags.append(conf);
    if (it.edited) tags.insertAdjacentHTML('beforeend', '<span class="tag edited">edited</span>');
    if (it.needs_rerun) tags.insertAdjacentHTML('beforeend', '<span class="tag rerun">needs re-run</span>');
    a.append(img, title, tags);
    box.append(a);
  }
  $('status').textContent = `${items.length} scenes · ${items.filter((i) => i.needs_rerun).length} to re-run`;
}
async function start() {
  items = await (await fetch('/api/queue')).json();
  $('sort').addEventListener('change', render);
  render();
  document.body.dataset.ready = '1';
}
start().catch((e) => { $('status').textContent = `error: ${e.message}`; });
