// "Put the claims to the test": the CapsNet against a baseline CNN trained on the same MNIST.
// Wires the section's views to the current input; asks the engine only once the
// section is on screen, so drawing above does not pay for answers nobody sees.
import * as api from '../../engine.js';
import { StatusLine } from '../../lib/status.js';
import { TransformView } from './transforms.js';
import { TransformSweepView } from './transform-sweep.js';
import { RobustnessView } from './robustness.js';
import { RoutingShareView } from './routing-share.js';
import { MisplaceView } from './misplace.js';

const $ = (id) => document.getElementById(id);

export class ClaimsSection {
  /** geometry: model-info.js' geometry(). Errors show in the section's own status line.
   * onTransform(values): the transform sliders moved (the URL keeps them). */
  constructor({ geometry, onTransform = () => {} }) {
    const section = $('claims');
    const { transforms } = geometry;
    const status = new StatusLine($('claims-status'));
    const onError = (err) => status.error(err);
    this.section = section;
    this.visible = false;
    this.stale = false; // a new input arrived while the section was off screen
    this.transform = new TransformView({
      root: $('transform-panel'), sliders: $('transform-sliders'), reset: $('transform-reset'),
      input: $('transformed-input'), capsnet: $('capsnet-answer'), cnn: $('cnn-answer'), note: $('transform-note'),
    }, {
      transforms,
      onError,
      onChange: (values) => {
        this.sweep.draw();
        onTransform(values);
      },
    });
    this.sweep = new TransformSweepView({
      root: $('sweep-panel'), parameter: $('sweep-parameter'), digit: $('sweep-digit'), run: $('sweep-run'),
      chart: $('sweep-chart'), summary: $('sweep-summary'),
    }, { transforms, digits: geometry.digits, current: () => this.transform.values(), onError });
    this.robustness = new RobustnessView({
      root: $('robustness-panel'), chart: $('robustness-chart'), summary: $('robustness-summary'),
      table: $('robustness-table'), retry: $('robustness-retry'),
    }, { transforms });
    this.routingShare = new RoutingShareView({
      root: $('routing-share-panel'), summary: $('routing-share-summary'), table: $('routing-share-table'),
    });
    this.misplace = new MisplaceView({
      root: $('misplace-panel'), buttons: $('misplace-buttons'), explain: $('misplace-explain'),
      original: $('misplace-original'), rearranged: $('misplace-rearranged'),
      originalCapsnet: $('misplace-original-capsnet'), originalCnn: $('misplace-original-cnn'),
      rearrangedCapsnet: $('misplace-rearranged-capsnet'), rearrangedCnn: $('misplace-rearranged-cnn'),
      caption: $('misplace-caption'), note: $('misplace-note'),
    }, { onError });

    new IntersectionObserver((entries) => {
      const wasVisible = this.visible;
      this.visible = entries[entries.length - 1].isIntersecting;
      if (!this.visible) return;
      if (!wasVisible && !this.loaded) this.loadOnce();
      if (this.stale) this.refresh();
    }, { rootMargin: '200px' }).observe(section);
  }

  /** The analysed input (28x28 in 0..1), from /api/analyze. */
  setInput(pixels) {
    for (const view of [this.transform, this.sweep, this.misplace]) view.setPixels(pixels);
    this.stale = true;
    if (this.visible) this.refresh();
  }

  refresh() {
    this.stale = false;
    this.transform.request(true);
    this.misplace.refresh();
  }

  /** What does not depend on the input: the two models, the robustness and routing tables. */
  async loadOnce() {
    this.loaded = true;
    this.robustness.load();
    this.routingShare.load();
    try {
      // the two MNIST models compared here; MultiMNIST's pair model has its own section
      const models = (await api.get('models')).filter((m) => m.test_unit === 'images');
      $('claims-models').textContent = `Compared: ${models.map((m) => `${m.name}, ${(m.parameters / 1e6).toFixed(2)} M parameters, `
        + `${(100 * m.test_accuracy).toFixed(2)}% MNIST test accuracy`).join('; ')}.`;
    } catch (err) {
      $('claims-models').textContent = `The models' details are unavailable: ${err.message}`;
    }
  }
}
