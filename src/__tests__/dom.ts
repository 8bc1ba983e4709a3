// What jsdom lacks and Lumino's widgets use at import (as @jupyterlab/testutils adds).
if (typeof (globalThis as any).DragEvent === 'undefined') {
  (globalThis as any).DragEvent = class DragEvent extends MouseEvent {};
}
