import { LabIcon } from '@jupyterlab/ui-components';

import maasSvgstr from '../style/icons/maas.svg';

/** The sidebar tab's icon: it takes the theme's icon colour (class jp-icon3). */
export const maasIcon = new LabIcon({
  name: 'jupyterlab-maas:models',
  svgstr: maasSvgstr
});
