/**
 * A windowed grid: only the rows near the viewport are in the DOM, so 5,000 images cost the same as 50.
 * Hand-written (about 60 lines) because it needs window scrolling, a responsive column count and list
 * semantics (aria-setsize / aria-posinset); the small virtual-list packages do one of those at most.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

const OVERSCAN_ROWS = 2;

export function VirtualGrid<T>(props: {
  items: T[];
  cell: number;
  gap: number;
  label: string;
  render: (item: T, index: number) => ComponentChildren;
  keyOf: (item: T) => string;
}) {
  const ref = useRef<HTMLUListElement>(null);
  const [width, setWidth] = useState(0);
  const [range, setRange] = useState({ top: 0, height: typeof innerHeight === 'number' ? innerHeight : 800 });

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const update = () => {
      const el = ref.current;
      if (!el) return;
      const rect = el.getBoundingClientRect();
      setRange({ top: -rect.top, height: innerHeight });
    };
    update();
    addEventListener('scroll', update, { passive: true });
    addEventListener('resize', update);
    return () => {
      removeEventListener('scroll', update);
      removeEventListener('resize', update);
    };
  }, []);

  // Columns of at least `cell` px, widened to fill the row.
  const columns = Math.max(1, Math.floor((width + props.gap) / (props.cell + props.gap)));
  const cell = width > 0 ? Math.floor((width - props.gap * (columns - 1)) / columns) : props.cell;
  const step = cell + props.gap;
  const rows = Math.ceil(props.items.length / columns);
  const first = Math.max(0, Math.floor(range.top / step) - OVERSCAN_ROWS);
  const last = Math.min(rows - 1, Math.ceil((range.top + range.height) / step) + OVERSCAN_ROWS);
  const start = first * columns;
  const end = Math.min(props.items.length, (last + 1) * columns);
  const visible = props.items.slice(start, end);

  return (
    <ul
      ref={ref}
      class="grid"
      aria-label={props.label}
      style={{ height: `${Math.max(0, rows * step - props.gap)}px` }}
    >
      {visible.map((item, i) => {
        const index = start + i;
        const row = Math.floor(index / columns);
        const col = index % columns;
        return (
          <li
            key={props.keyOf(item)}
            aria-setsize={props.items.length}
            aria-posinset={index + 1}
            style={{
              transform: `translate(${col * step}px, ${row * step}px)`,
              width: `${cell}px`,
              height: `${cell}px`,
            }}
          >
            {props.render(item, index)}
          </li>
        );
      })}
    </ul>
  );
}
