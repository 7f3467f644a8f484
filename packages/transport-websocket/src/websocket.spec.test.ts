import { transportCompliance } from '@greenraft/consensus-compliance';
import { loopbackTransports, settle } from './cluster.test-utils.js';

transportCompliance({
  name: 'WebSocket transport on loopback',
  setup: async () => {
    const transports = [...(await loopbackTransports(['a', 'b', 'c'])).values()];
    return { endpoints: transports, flush: () => settle(transports), close: async () => { await Promise.all(transports.map((t) => t.stop())); } };
  },
});

transportCompliance({
  name: 'WebSocket transport on loopback, dialled by the later-started nodes',
  setup: async () => {
    // c is the only acceptor of every link: it starts first and waits for a and b to dial it.
    const transports = [...(await loopbackTransports(['c', 'b', 'a'])).values()];
    return { endpoints: transports, flush: () => settle(transports), close: async () => { await Promise.all(transports.map((t) => t.stop())); } };
  },
});
