// The table of contents: one link per section of the page (the stages in order, then the
// experiments), read from the sections themselves, so a section added later is listed too;
// the link of the section being read is marked aria-current.

/** Sections in document order: every <section class="panel" id=...> of the page. */
const sections = () => Array.from(document.querySelectorAll('main section.panel[id]'));

/** A section's entry: its step number, and its data-toc label or else its heading. */
function label(section) {
  const heading = section.querySelector('h2');
  const step = heading && heading.querySelector('.step');
  const text = section.dataset.toc || (heading ? heading.textContent.replace(step ? step.textContent : '', '') : section.id);
  return { step: step ? step.textContent.trim() : '', text: text.trim() };
}

export class TableOfContents {
  constructor(nav) {
    this.list = nav.querySelector('ol');
    this.links = new Map();
    this.visible = new Set();
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) this.visible.add(entry.target);
        else this.visible.delete(entry.target);
      }
      this.markCurrent();
    }, { rootMargin: '-30% 0px -60% 0px' }); // the section crossing a line 30% down the screen
    this.build();
  }

  /** (Re)build the list; call again when a section is added. */
  build() {
    this.observer.disconnect();
    this.links.clear();
    this.list.replaceChildren(...sections().map((section) => {
      const { step, text } = label(section);
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `#${section.id}`;
      a.dataset.section = section.id;
      if (step) {
        const n = document.createElement('span');
        n.className = 'toc-step';
        n.textContent = step;
        a.append(n);
      }
      a.append(text);
      li.append(a);
      this.links.set(section, a);
      this.observer.observe(section);
      return li;
    }));
  }

  /** On a narrow screen the list is one scrolling strip: keep the current link in it. */
  follow(link) {
    const strip = this.list.parentElement;
    if (strip.scrollWidth <= strip.clientWidth) return;
    strip.scrollLeft = link.offsetLeft - (strip.clientWidth - link.offsetWidth) / 2;
  }

  markCurrent() {
    // The last one: on a wide screen the input, in its sticky column, is always in view.
    const current = sections().filter((s) => this.visible.has(s)).pop();
    if (!current) return; // between sections: keep the last mark
    for (const [section, link] of this.links) {
      if (section === current) {
        link.setAttribute('aria-current', 'location');
        this.follow(link);
      } else {
        link.removeAttribute('aria-current');
      }
    }
  }
}
