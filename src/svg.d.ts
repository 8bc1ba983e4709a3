// An SVG imported by a module is its source text (JupyterLab's builder).
declare module '*.svg' {
  const value: string;
  export default value;
}
