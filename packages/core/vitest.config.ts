import { ziplmProject } from '../../vitest.shared.ts';

export default ziplmProject('core');
