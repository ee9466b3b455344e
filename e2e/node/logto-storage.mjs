// The storage Logto's SDK keeps its tokens in, in memory for a test: the
// map is returned too, so a test can read what the SDK saved (its refresh
// token).
export const memoryStorage = () => {
  const saved = new Map();
  const storage = {
    getItem: async (k) => saved.get(k) ?? null,
    setItem: async (k, v) => { saved.set(k, v); },
    removeItem: async (k) => { saved.delete(k); },
  };
  return { saved, storage };
};
