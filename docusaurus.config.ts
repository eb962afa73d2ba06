// Minimal until the site lands (issue: the documentation site). The remark plugin that
// extracts runbooks is the same one the CLI uses: plugins/remark-exec-doc.
const config = {
  title: 'Migration & Upgrade Guide',
  url: 'http://localhost',
  baseUrl: '/',
};

export default config;
