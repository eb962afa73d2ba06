// The published guide. Docs are served at the site root; every MDX page goes through the
// engine's remark plugin (the same extractor the CLI uses), compiled into dist/ by `prepare`.
import type { Config } from '@docusaurus/types';
import type * as Preset from '@docusaurus/preset-classic';
import remarkExecDoc from './dist/plugins/remark-exec-doc/index.js';
import execDocSitePlugin from './dist/plugins/docusaurus-exec-doc/index.js';

// Where the site is published (llms.txt, the .md copies and runbooks.json link to it):
// SITE_URL=https://docs.example.com/upgrade-guide/ npm run build.
const siteUrl = new URL(process.env.SITE_URL ?? 'http://localhost/');

const config: Config = {
  title: 'Migration & Upgrade Guide',
  tagline: 'Executable procedures: every step runs, is verified, and can be rolled back.',
  url: siteUrl.origin,
  baseUrl: siteUrl.pathname.endsWith('/') ? siteUrl.pathname : `${siteUrl.pathname}/`,
  favicon: 'img/favicon.svg',
  onBrokenLinks: 'throw',
  onBrokenAnchors: 'throw',
  markdown: { hooks: { onBrokenMarkdownLinks: 'throw' } },
  i18n: { defaultLocale: 'en', locales: ['en'] },
  presets: [
    [
      'classic',
      {
        docs: {
          routeBasePath: '/',
          sidebarPath: './sidebars.ts',
          // Sub-guides carry a short `id:` (database-migrations); other files keep their names as ids.
          numberPrefixParser: false,
          remarkPlugins: [[remarkExecDoc, { docsRoot: 'docs', annotate: true }]],
        },
        blog: false,
        theme: { customCss: './src/site/custom.css' },
      } satisfies Preset.Options,
    ],
  ],
  plugins: [[execDocSitePlugin, { docsRoot: 'docs' }]],
  themes: [
    [
      '@easyops-cn/docusaurus-search-local',
      { hashed: true, indexBlog: false, docsRouteBasePath: '/', highlightSearchTermsOnTargetPage: false },
    ],
  ],
  themeConfig: {
    navbar: {
      title: 'Migration & Upgrade Guide',
      items: [{ type: 'docSidebar', sidebarId: 'guide', position: 'left', label: 'Guide' }],
    },
  } satisfies Preset.ThemeConfig,
};

export default config;
