// Jest globalSetup: a folder where every test worker leaves the log lines its gateways wrote.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function setup() {
  process.env.LOG_SWEEP_DIR = mkdtempSync(join(tmpdir(), 'gateway-log-sweep-'));
};
