// The few browser APIs the page uses, typed here: the project typechecks without lib.dom (its
// types clash with Bun's fetch and WebSocket ones), and these files run only in the browser.

export interface Ev {
  preventDefault(): void;
}

export interface El {
  textContent: string | null;
  hidden: boolean;
  readonly dataset: Record<string, string | undefined>;
  readonly style: Record<string, string>;
  readonly clientWidth: number;
  setAttribute(name: string, value: string): void;
  append(...nodes: (El | string)[]): void;
  replaceChildren(...nodes: (El | string)[]): void;
  addEventListener(type: string, listener: (e: Ev) => void): void;
  focus(): void;
}

export interface InputEl extends El {
  value: string;
  checked: boolean;
  disabled: boolean;
  required: boolean;
}

export interface CanvasEl extends El {
  width: number;
  height: number;
  getContext(kind: "2d"): Ctx2D | null;
}

export interface Ctx2D {
  font: string;
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  lineJoin: string;
  textAlign: string;
  textBaseline: string;
  setTransform(a: number, b: number, c: number, d: number, e: number, f: number): void;
  clearRect(x: number, y: number, w: number, h: number): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
  fillText(text: string, x: number, y: number): void;
  setLineDash(segments: number[]): void;
  arc(x: number, y: number, r: number, start: number, end: number): void;
  fill(): void;
}

interface Doc {
  readonly documentElement: El;
  readonly body: El;
  readonly hidden: boolean;
  createElement(tag: string): El;
  getElementById(id: string): El | null;
  querySelector(selector: string): El | null;
  addEventListener(type: string, listener: () => void): void;
}

interface Win {
  readonly devicePixelRatio: number;
  readonly sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };
  addEventListener(type: string, listener: () => void): void;
  requestAnimationFrame(fn: () => void): number;
  cancelAnimationFrame(id: number): void;
  getComputedStyle(e: El): { getPropertyValue(name: string): string };
}

const g = globalThis as unknown as { document: Doc; window: Win };
export const doc = g.document;
export const win = g.window;
