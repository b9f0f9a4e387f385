import { describe, expect, it } from 'vitest';
import { flattenOutline, matchWorkspaceSymbols } from '../../src/code/symbol-path.js';

const at = (line: number, character: number, endLine = line, endCharacter = character) => ({ start: { line, character }, end: { line: endLine, character: endCharacter } });
const location = (range: ReturnType<typeof at>) => ({ uri: 'file:///workspace/a', range });

describe('outlines and name paths across servers', () => {
  it("names gopls's methods by their receiver type", () => {
    const outline = flattenOutline([
      { name: 'Cart', kind: 23, range: at(0, 5, 2, 1), selectionRange: at(0, 5, 0, 9) },
      { name: '(*Cart).AddItem', kind: 6, range: at(4, 0, 6, 1), selectionRange: at(4, 15, 4, 22) },
      { name: '(List[T]).Len', kind: 6, range: at(8, 0, 8, 30), selectionRange: at(8, 16, 8, 19) },
    ]);
    expect(outline.map((entry) => [entry.namePath, entry.name])).toEqual([
      ['Cart', 'Cart'],
      ['Cart.AddItem', 'AddItem'],
      ['List.Len', 'Len'],
    ]);
  });

  it("places a flat symbol on its name, not on its declaration's keyword, and leaves out functions' locals", () => {
    const text = 'class Cart:\n    def add_item(self, item):\n        self.items = [item]\n';
    const outline = flattenOutline(
      [
        { name: 'Cart', kind: 5, location: location(at(0, 0, 2, 27)) },
        { name: 'add_item', kind: 6, containerName: 'Cart', location: location(at(1, 4, 2, 27)) },
        { name: 'items', kind: 8, containerName: 'add_item', location: location(at(2, 8, 2, 27)) },
      ],
      text,
    );
    expect(outline.map((entry) => [entry.namePath, entry.selection.start, entry.selection.end])).toEqual([
      ['Cart', { line: 0, character: 6 }, { line: 0, character: 10 }],
      ['Cart.add_item', { line: 1, character: 8 }, { line: 1, character: 16 }],
    ]);
    // A name the text does not hold whole (another text, a decorated name) keeps the range's start; no regex from a server's name runs unescaped.
    expect(flattenOutline([{ name: 'a.*(', kind: 12, location: location(at(0, 0, 0, 5)) }], 'a.*( x').map((entry) => entry.selection.start)).toEqual([{ line: 0, character: 0 }]);
    expect(flattenOutline([{ name: 'add', kind: 12, location: location(at(0, 0, 0, 16)) }], 'def adder(): add').map((entry) => entry.selection.start)).toEqual([{ line: 0, character: 13 }]);
  });

  it('matches workspace symbols whose server qualifies their names (gopls) as well as those it puts in containers (pyright)', () => {
    const gopls = { name: 'Cart.AddItem', kind: 6 as const, containerName: 'example.com/shop/cart', location: location(at(17, 15)) };
    const pyright = { name: 'add_item', kind: 6 as const, containerName: 'Cart', location: location(at(7, 8)) };
    const other = { name: 'Basket.AddItem', kind: 6 as const, containerName: 'example.com/shop/basket', location: location(at(3, 1)) };
    expect(matchWorkspaceSymbols([gopls, other], 'Cart.AddItem')).toEqual([gopls]);
    expect(matchWorkspaceSymbols([gopls, other], 'cart.Cart.AddItem')).toEqual([gopls]);
    expect(matchWorkspaceSymbols([gopls, other], 'AddItem')).toEqual([gopls, other]);
    expect(matchWorkspaceSymbols([pyright], 'Cart.add_item')).toEqual([pyright]);
    expect(matchWorkspaceSymbols([pyright], 'Other.add_item')).toEqual([]);
  });
});
