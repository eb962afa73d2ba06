// Makes the runbook elements that the remark plugin puts into pages available to every MDX page.
import MDXComponents from '@theme-original/MDXComponents';
import RunbookSection from '@site/src/site/RunbookSection';
import RunbookStep from '@site/src/site/RunbookStep';

export default { ...MDXComponents, RunbookSection, RunbookStep };
