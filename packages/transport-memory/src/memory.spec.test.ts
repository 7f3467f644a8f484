import { transportCompliance } from '@greenraft/consensus-compliance';
import { memoryNetwork, realClock, virtualClock } from './index.js';

transportCompliance({
  name: 'memory transport on real timers',
  setup: () => {
    const network = memoryNetwork({ clock: realClock() });
    const flush = async () => {
      while (network.inFlight() > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    };
    return { endpoints: ['a', 'b', 'c'].map((id) => network.transport(id)), flush, close: () => network.close() };
  },
});

transportCompliance({
  name: 'memory transport on a virtual clock',
  setup: () => {
    const clock = virtualClock();
    const network = memoryNetwork({ clock, seed: 7 });
    const flush = async () => {
      while (clock.runNext());
    };
    return { endpoints: ['a', 'b', 'c'].map((id) => network.transport(id)), flush, close: () => network.close() };
  },
});
