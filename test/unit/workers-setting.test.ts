// WORKERS (issue 14): processes sharing PORT; default 1 (a sidecar is one process).
import { loadConfig, SettingError } from '../../src/config/load';
import { thrownBy } from './helpers';

describe('WORKERS', () => {
  it('defaults to 1 and takes a whole number', () => {
    expect(loadConfig({ env: {} }).workers).toBe(1);
    expect(loadConfig({ env: { WORKERS: '2' } }).workers).toBe(2);
  });

  it.each(['0', '65', 'two', '1.5'])('refuses %j, naming the setting', (value) => {
    const err = thrownBy(() => loadConfig({ env: { WORKERS: value } }));
    expect(err).toBeInstanceOf(SettingError);
    expect((err as SettingError).message).toMatch(/^WORKERS /);
  });
});
