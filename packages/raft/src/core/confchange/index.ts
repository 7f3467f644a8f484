export { ConfigHistory } from './history.js';
export { checkConfigChange, copyConfiguration, enterJoint, leaveJoint, membership } from './changer.js';
export type { ChangeContext, Membership } from './changer.js';
