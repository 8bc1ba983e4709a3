// Bundle the portal into hub_service/static/portal/ (served by the service; shipped in
// the wheel): one script, one stylesheet, the fonts as files. No CDN at run time.
import { build } from 'esbuild';

await build({
  entryPoints: { portal: 'src/main.tsx' },
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ['es2020'],
  outdir: '../hub_service/static/portal',
  assetNames: 'fonts/[name]-[hash]',
  loader: { '.woff2': 'file', '.woff': 'file' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  logLevel: 'warning'
});
