import { useCallback, useEffect, useState } from "react";
import { ApiError } from "./client";

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
  setData: (update: (current: T | undefined) => T | undefined) => void;
}

/** Loads `load()` when `key` changes; `reload` fetches again (after a change or an event). */
export function useResource<T>(key: string | null, load: () => Promise<T>): Resource<T> {
  const [data, setDataState] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(key !== null);
  const [generation, setGeneration] = useState(0);
  const [loadedKey, setLoadedKey] = useState(key);

  // Another key is another thing: never show the previous one's data as if it were this one's.
  if (key !== loadedKey) {
    setLoadedKey(key);
    setDataState(undefined);
    setError(undefined);
  }

  useEffect(() => {
    if (key === null) return;
    let current = true;
    setLoading(true);
    load()
      .then((value) => {
        if (!current) return;
        setDataState(value);
        setError(undefined);
      })
      .catch((reason: unknown) => {
        if (!current) return;
        setError(
          reason instanceof ApiError ? reason : new ApiError(0, "client", String(reason), {}),
        );
      })
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
    // `load` is recreated each render; `key` names what it loads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const setData = useCallback(
    (update: (current: T | undefined) => T | undefined) => setDataState((c) => update(c)),
    [],
  );
  return { data, error, loading, reload, setData };
}
