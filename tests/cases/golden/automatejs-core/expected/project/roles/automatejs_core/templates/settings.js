// An AutomateJS template: called with the task's variables, it returns the file's text.
module.exports = (vars) => JSON.stringify({name: vars.name, port: Number(vars.port)}, null, 2) + '\n'
