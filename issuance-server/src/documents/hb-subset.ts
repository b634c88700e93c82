// HarfBuzz's subsetter (hb-subset, the wasm build shipped in harfbuzzjs) holding one font for the
// life of a render worker. Copying a 46 MB font into wasm memory and preprocessing it takes a few
// hundred ms, after which a document's subset takes about a millisecond, against about ten for
// fontkit's subsetter (which, on IPAmj Mincho, also writes glyphs that viewers draw blank).
// harfbuzzjs wraps only shaping, so the C API is called directly.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

// hb-subset.h and hb-common.h constants.
const HB_MEMORY_MODE_WRITABLE = 2;
const HB_SUBSET_FLAGS_NO_HINTING = 0x1;
const HB_SUBSET_SETS_DROP_TABLE_TAG = 3;

// Dropped beyond hb's defaults. Without GSUB/GPOS/GDEF fontkit lays text out by cmap and advance
// widths only, about twice as fast per line; certificates set horizontal Japanese without
// ligatures or kerning, so no glyph or width changes (the tests compare against the full font).
// vhea/vmtx stay: without them fontkit derives each glyph's vertical metrics from its outline.
// Hinting (the flag above) is irrelevant on paper and is most of a TrueType subset's size.
const DROPPED_TABLES = ['GSUB', 'GPOS', 'GDEF'];

interface HbSubsetExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  hb_blob_create(data: number, length: number, mode: number, userData: number, destroy: number): number;
  hb_blob_destroy(blob: number): void;
  hb_blob_get_data(blob: number, length: number): number;
  hb_blob_get_length(blob: number): number;
  hb_face_create(blob: number, index: number): number;
  hb_face_destroy(face: number): void;
  hb_face_reference_blob(face: number): number;
  hb_set_add(set: number, value: number): void;
  hb_subset_preprocess(face: number): number;
  hb_subset_input_create_or_fail(): number;
  hb_subset_input_destroy(input: number): void;
  hb_subset_input_unicode_set(input: number): number;
  hb_subset_input_set(input: number, setType: number): number;
  hb_subset_input_set_flags(input: number, flags: number): void;
  hb_subset_or_fail(face: number, input: number): number;
}

function tag(name: string): number {
  return ((name.charCodeAt(0) << 24) | (name.charCodeAt(1) << 16) | (name.charCodeAt(2) << 8) | name.charCodeAt(3)) >>> 0;
}

/** hb-subset compiled; from harfbuzzjs's file unless a bundle supplies the bytes (import.meta is empty there). */
export async function compileHbSubset(wasmBytes?: Uint8Array): Promise<WebAssembly.Module> {
  // createRequire, not import.meta.resolve: tsx compiles modules that mocha require()s to CommonJS, which has no resolve.
  return WebAssembly.compile(wasmBytes ?? (await readFile(createRequire(import.meta.url).resolve('harfbuzzjs/dist/harfbuzz-subset.wasm'))));
}

/** One font loaded into hb-subset, cut down to a document's characters as often as needed. */
export class HbSubsetter {
  private constructor(
    private readonly hb: HbSubsetExports,
    private readonly face: number,
  ) {}

  /** Loads `fontBytes` into a fresh hb-subset instance and preprocesses it for repeated subsetting. */
  static async open(wasm: WebAssembly.Module, fontBytes: Uint8Array): Promise<HbSubsetter> {
    const instance = await WebAssembly.instantiate(wasm, {});
    const hb = instance.exports as unknown as HbSubsetExports;
    hb._initialize();
    const data = hb.malloc(fontBytes.byteLength);
    if (data === 0) throw new Error('hb-subset: out of memory for the font');
    new Uint8Array(hb.memory.buffer, data, fontBytes.byteLength).set(fontBytes);
    // The font, its blob and faces live as long as the worker: never destroyed or freed.
    const blob = hb.hb_blob_create(data, fontBytes.byteLength, HB_MEMORY_MODE_WRITABLE, 0, 0);
    const face = hb.hb_subset_preprocess(hb.hb_face_create(blob, 0));
    return new HbSubsetter(hb, face);
  }

  /** A TrueType font with just the glyphs for `codePoints` (variation selectors included), hinting and layout tables dropped. */
  subset(codePoints: Iterable<number>): Uint8Array {
    const { hb } = this;
    const input = hb.hb_subset_input_create_or_fail();
    if (input === 0) throw new Error('hb-subset: cannot create a subset input');
    let face = 0;
    try {
      const unicodes = hb.hb_subset_input_unicode_set(input);
      for (const cp of codePoints) hb.hb_set_add(unicodes, cp);
      const dropped = hb.hb_subset_input_set(input, HB_SUBSET_SETS_DROP_TABLE_TAG);
      for (const name of DROPPED_TABLES) hb.hb_set_add(dropped, tag(name));
      hb.hb_subset_input_set_flags(input, HB_SUBSET_FLAGS_NO_HINTING);
      face = hb.hb_subset_or_fail(this.face, input);
      if (face === 0) throw new Error('hb-subset: subsetting failed');
      const blob = hb.hb_face_reference_blob(face);
      // A copy: the view is into wasm memory, which the next subset reuses (or grows and detaches).
      const bytes = new Uint8Array(hb.memory.buffer, hb.hb_blob_get_data(blob, 0), hb.hb_blob_get_length(blob)).slice();
      hb.hb_blob_destroy(blob);
      return bytes;
    } finally {
      if (face !== 0) hb.hb_face_destroy(face);
      hb.hb_subset_input_destroy(input);
    }
  }
}
