import { describe, expect, it } from 'vitest';
import { routeAlert, type RouteConfig } from '../../src/alerts/routing.js';
import { makeAlert } from './make-alert.js';

const ALL = ['console', 'soc-webhook', 'slack', 'email'];

describe('routeAlert', () => {
  it('sends to every receiver when no route is configured', () => {
    expect(routeAlert(makeAlert(), [], ALL)).toEqual(ALL);
    expect(routeAlert(makeAlert(), [], ['a', 'a', 'b'])).toEqual(['a', 'b']);
  });

  it('sends nowhere when routes exist and none matches', () => {
    const routes: RouteConfig[] = [{ match: { severity: 'critical' }, receivers: ['slack'], continue: false }];
    expect(routeAlert(makeAlert({ severity: 'low' }), routes, ALL)).toEqual([]);
  });

  const routes: RouteConfig[] = [
    { match: { rule: 'monitor.*' }, receivers: ['email'], continue: true },
    { match: { category: ['forwarding', 'delegation'] }, receivers: ['slack', 'email'], continue: false },
    { match: { min_severity: 'high', provider: 'microsoft-365' }, receivers: ['soc-webhook'], continue: false },
    { match: { source: 'branch-imap' }, receivers: ['slack'], continue: false },
    { receivers: ['console'], continue: false },
  ];

  it.each([
    ['first matching route wins', { category: 'forwarding' as const, severity: 'critical' as const }, ['slack', 'email']],
    ['min_severity lets high and critical through', { severity: 'critical' as const }, ['soc-webhook']],
    ['min_severity stops medium', { severity: 'medium' as const }, ['console']],
    ['provider must also match (AND)', { severity: 'high' as const, provider: 'google-workspace' }, ['console']],
    ['a missing field never matches a condition on it', { severity: 'high' as const, provider: undefined }, ['console']],
    ['source matches exactly', { severity: 'low' as const, source: 'branch-imap' }, ['slack']],
    ['continue keeps going; receivers are de-duplicated in order', { rule: 'monitor.delivery-failing', category: 'forwarding' as const }, ['email', 'slack']],
    ['continue then catch-all', { rule: 'monitor.source-silent', category: 'monitor' as const, severity: 'medium' as const }, ['email', 'console']],
  ])('%s', (_name, over, expected) => {
    expect(routeAlert(makeAlert(over), routes, ALL)).toEqual(expected);
  });

  it('globs match whole rule ids, and dots are literal', () => {
    const r = (rule: string | string[]): RouteConfig[] => [{ match: { rule }, receivers: ['slack'], continue: false }];
    expect(routeAlert(makeAlert({ rule: 'login.impossible-travel' }), r('login.*'), ALL)).toEqual(['slack']);
    expect(routeAlert(makeAlert({ rule: 'loginXimpossible' }), r('login.*'), ALL)).toEqual([]);
    expect(routeAlert(makeAlert({ rule: 'mail.login.odd' }), r('login.*'), ALL)).toEqual([]);
    expect(routeAlert(makeAlert({ rule: 'mail.forward-external' }), r('*forward*'), ALL)).toEqual(['slack']);
    expect(routeAlert(makeAlert({ rule: 'login.new-country' }), r(['mail.*', 'login.new-country']), ALL)).toEqual(['slack']);
    expect(routeAlert(makeAlert({ rule: 'login.new-country' }), r('login.new'), ALL)).toEqual([]);
  });

  it('severity lists match any of their values', () => {
    const routes: RouteConfig[] = [{ match: { severity: ['low', 'medium'] }, receivers: ['slack'], continue: false }];
    expect(routeAlert(makeAlert({ severity: 'medium' }), routes, ALL)).toEqual(['slack']);
    expect(routeAlert(makeAlert({ severity: 'high' }), routes, ALL)).toEqual([]);
  });

  it('only returns receivers from the list it is given (an empty list sends nowhere)', () => {
    const routes: RouteConfig[] = [{ receivers: ['pager', 'slack'], continue: false }];
    expect(routeAlert(makeAlert(), routes, ALL)).toEqual(['slack']);
    expect(routeAlert(makeAlert(), routes, [])).toEqual([]);
    expect(routeAlert(makeAlert(), [], [])).toEqual([]);
  });
});
