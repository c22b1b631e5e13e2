import { ziplmE2eProject } from '../../vitest.shared.ts';

export default ziplmE2eProject('models');
